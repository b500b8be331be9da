"""A local pool of candidate images for expansion: a folder, or a parquet file of image bytes
or URLs. Everything ends up as a local file (parquet bytes and downloads go to a temporary
folder) with the label the user knows it by."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.collect.download import Downloader, DownloadPolicy
from core.collect.errors import CollectError
from core.collect.urllist import CAPTION_COLUMNS, TITLE_COLUMNS, URL_COLUMNS, UrlItem, pick_column
from core.library.limits import IMAGE_SUFFIXES, MAX_FILE_BYTES, is_ignored_name

IMAGE_COLUMNS = ("image", "img", "jpg", "png", "webp", "image_bytes", "bytes")


@dataclass
class PoolItem:
    label: str  # a file path, a URL, or `pool.parquet#row=N`
    path: str  # the local file
    url: str | None = None
    title: str | None = None
    caption: str | None = None
    sha256: str | None = None


@dataclass
class Pool:
    items: list[PoolItem]
    failed: list[dict]  # label, reason, detail
    kind: str  # folder | parquet-images | parquet-urls


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _folder(root: Path) -> Pool:
    items = []
    # No symlinked folders: a pool is a plain tree, and this cannot loop.
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not is_ignored_name(d))
        for name in sorted(filenames):
            if is_ignored_name(name) or Path(name).suffix.lower() not in IMAGE_SUFFIXES:
                continue
            path = os.path.join(dirpath, name)
            items.append(PoolItem(label=path, path=path))
    return Pool(items, [], "folder")


def _image_bytes(value) -> bytes | None:
    # Hugging Face datasets store images as {"bytes": ..., "path": ...}.
    if isinstance(value, dict):
        value = value.get("bytes")
    return value if isinstance(value, bytes | bytearray) and value else None


def _parquet(
    path: Path,
    tmp: Path,
    policy: DownloadPolicy | None,
    progress: Callable[[int, int], None] | None,
) -> Pool:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise CollectError(f"{path}: not a readable parquet file ({exc})") from None
    names = pf.schema_arrow.names
    image_col = pick_column(names, IMAGE_COLUMNS)
    url_col = pick_column(names, URL_COLUMNS)
    title_col, caption_col = pick_column(names, TITLE_COLUMNS), pick_column(names, CAPTION_COLUMNS)
    if image_col is None and url_col is None:
        raise CollectError(
            f"{path}: no image column ({', '.join(IMAGE_COLUMNS)}) or URL column "
            f"({', '.join(URL_COLUMNS)}); found {', '.join(names)}"
        )
    cols = [c for c in (image_col or url_col, title_col, caption_col) if c]
    items, failed, urls, row_no = [], [], [], 0
    for batch in pf.iter_batches(batch_size=256, columns=cols):
        for rec in batch.to_pylist():
            label = f"{path}#row={row_no}"
            title = rec.get(title_col) if title_col else None
            caption = rec.get(caption_col) if caption_col else None
            if image_col:
                data = _image_bytes(rec.get(image_col))
                if data is None:
                    failed.append({"label": label, "reason": "empty", "detail": "no image bytes"})
                elif len(data) > MAX_FILE_BYTES:
                    failed.append({"label": label, "reason": "too_large", "detail": str(len(data))})
                else:
                    file = tmp / f"row{row_no:08d}.img"
                    file.write_bytes(data)
                    items.append(PoolItem(label, str(file), None, title, caption))
            else:
                urls.append(UrlItem(str(rec.get(url_col) or ""), title, caption))
            row_no += 1
    if image_col:
        return Pool(items, failed, "parquet-images")
    fetched = Downloader(tmp / "downloads", policy).fetch_all(urls, progress)
    for f in fetched:
        if f.ok:
            items.append(
                PoolItem(f.item.url, f.path, f.item.url, f.item.title, f.item.caption, f.sha256)
            )
        else:
            failed.append({"label": f.item.url, "reason": f.reason, "detail": f.detail})
    return Pool(items, failed, "parquet-urls")


def read_pool(
    path: Path | str,
    tmp: Path,
    policy: DownloadPolicy | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Pool:
    """Every candidate of the pool as a local file, with its sha256 computed."""
    path = Path(path).expanduser()
    if path.is_dir():
        pool = _folder(path.resolve())
    elif path.is_file() and path.suffix.lower() == ".parquet":
        pool = _parquet(path.resolve(), tmp, policy, progress)
    elif path.exists():
        raise CollectError(f"{path}: a pool is a folder of images or a .parquet file")
    else:
        raise CollectError(f"{path}: no such folder or file")
    for item in pool.items:
        if item.sha256 is None:
            item.sha256 = _sha256(item.path)
    return pool
