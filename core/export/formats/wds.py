"""webdataset tar shards for streaming trainers: `train-000000.tar`, ... each sample being
`<key>.<jpg|png|...>` (the image) and `<key>.json` (id, LLaVA-shaped `conversations` with
`<image>\\n` opening the first human turn, and our `meta`), members in key order, at most
`shard_size` samples a shard. Tar headers carry no time, owner or machine path, so the same
export gives the same bytes.

The image member keeps the image's own extension (webdataset's decoders pick by extension and
PIL reads the bytes); a record sharing its image with others carries its own copy, as
webdataset samples do.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

from core.export.conversation import Conversation
from core.export.errors import ExportError
from core.export.formats.base import Format, ReadContext, RecordError, cache_image, split_of
from core.export.formats.llava import LlavaFormat

DEFAULT_SHARD_SIZE = 5000
IMAGE_EXTS = ("jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff")


class WebdatasetFormat(Format):
    name = "webdataset"
    title = "webdataset (tar shards)"
    data_suffix = ".tar"
    places_images = False

    def data_file(self, split: str) -> str:
        return f"{split}-000000.tar"

    def manifest_data_files(self, splits: list[str], written: list[str]) -> dict:
        return {s: [n for n in written if n.startswith(f"{s}-")] for s in splits}

    def find_data_files(self, folder: Path) -> list[Path]:
        return sorted(p for p in folder.glob("*.tar") if p.is_file())

    def write(self, job) -> list[str]:
        from core.store import exports

        size = job.options.shard_size or DEFAULT_SHARD_SIZE
        names: list[str] = []
        for split in job.splits:
            tmp = job.staging / f".{split}.records.jsonl"
            exports.copy_records(job.cur, "llava", split, tmp, False)
            images = _Images(job, split)
            shard, count = None, 0
            try:
                for rec in _read_lines(tmp):
                    if shard is None or count == size:
                        if shard is not None:
                            shard.close()
                        names.append(f"{split}-{sum(n.startswith(split) for n in names):06d}.tar")
                        shard = tarfile.open(
                            job.staging / names[-1], "w", format=tarfile.USTAR_FORMAT
                        )
                        count = 0
                    name, data = images.get(rec["image"])
                    key = rec["id"]
                    rec["image"] = f"{key}.{name.rsplit('.', 1)[-1]}"
                    _add(shard, rec["image"], data)
                    _add(shard, f"{key}.json", json.dumps(rec, ensure_ascii=False).encode())
                    count += 1
            finally:
                if shard is not None:
                    shard.close()
                tmp.unlink(missing_ok=True)
            job.progress(f"webdataset {split}")
        return names

    def iter_raw(self, path: Path) -> Iterator[object]:
        try:
            tar = tarfile.open(path, "r:")
        except (tarfile.TarError, OSError) as exc:
            raise ExportError(f"{path.name} is not a tar file: {exc}") from None
        with tar:
            sample: dict = {}
            for member in tar:
                if not member.isfile():
                    continue
                base = Path(member.name).name
                key, _, ext = base.partition(".")
                if sample and sample["__key__"] != key:
                    yield sample
                    sample = {}
                sample.setdefault("__key__", key)
                data = tar.extractfile(member).read()
                sample[ext.lower()] = data
            if sample:
                yield sample

    def sniff(self, rec: object) -> bool:
        return isinstance(rec, dict) and "__key__" in rec

    def read_context(
        self, data_file: Path, folder: Path, manifest: dict | None, **kw
    ) -> ReadContext:
        from core.paths import user_home

        cache = Path(kw.get("cache_dir") or user_home() / "cache" / "images")
        return ReadContext(
            data_file, data_file.parent.resolve(), split_of(data_file), cache_dir=cache
        )

    def to_conversation(self, rec: object, index: int, ctx: ReadContext) -> Conversation:
        if not isinstance(rec, dict) or "json" not in rec:
            key = rec.get("__key__") if isinstance(rec, dict) else None
            raise RecordError("bad_record", f"sample {key!r} has no .json member")
        try:
            data = json.loads(rec["json"].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RecordError(
                "bad_record", f"sample {rec['__key__']!r}: bad JSON ({exc})"
            ) from None
        if not isinstance(data, dict):
            raise RecordError("bad_record", f"sample {rec['__key__']!r}: JSON is not an object")
        exts = [k for k in rec if k in IMAGE_EXTS]
        if exts:
            data["image"] = str(cache_image(rec[exts[0]], f"x.{exts[0]}", ctx))
        else:
            data.pop("image", None)
        return LlavaFormat().to_conversation(data, index, ctx)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def _read_lines(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


class _Images:
    """The image of each record: records and images both come in sha256 order, so one pass
    over the split's images serves all, holding one image at a time."""

    def __init__(self, job, split: str):
        from core.store import exports

        self.job = job
        self.rows = (row for batch in exports.iter_selected_images(job.cur, split) for row in batch)
        self.sha: str | None = None
        self.row: tuple | None = None
        self.item: tuple[str, bytes] | None = None

    def get(self, rel: str) -> tuple[str, bytes]:
        want = Path(rel).stem
        while self.sha != want:
            row = next(self.rows, None)
            if row is None or row[1] > want:
                raise ExportError(f"no image for record image {rel!r}")
            self.sha, self.row, self.item = row[1], row, None
        if self.item is None:
            _image_id, sha, ext, storage, path = self.row
            data = self.job.read_image(sha, ext, storage, path)
            if self.job.missing:
                raise ExportError(f"image {sha[:12]} is missing from the project")
            self.item = (f"{sha}.{ext}", data)
        return self.item
