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
        from core.store import export_passes

        size = job.options.shard_size or DEFAULT_SHARD_SIZE
        names: list[str] = []
        for split in job.splits:
            shard, count = None, 0
            # Records come in sha256 order, so an image's records are consecutive: its bytes
            # are read once, at its first record, and held until the next image.
            held, data, ext = None, b"", ""
            try:
                for images, batch in export_passes.stream_records(job.cur, "webdataset", split):
                    for key, text, o, _part in batch:
                        if shard is None or count == size:
                            if shard is not None:
                                shard.close()
                            n = sum(x.startswith(f"{split}-") for x in names)
                            names.append(f"{split}-{n:06d}.tar")
                            shard, count = TarWriter(job.staging / names[-1]), 0
                        if o != held:
                            sha, ext, storage, path = images[o]
                            held, data = o, job.read_image(sha, ext, storage, path)
                            if job.missing:
                                raise ExportError(f"image {sha[:12]} is missing from the project")
                        shard.add(f"{key}.{ext}", data)
                        shard.add(f"{key}.json", text.encode())
                        count += 1
            finally:
                if shard is not None:
                    shard.close()
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


def _ustar_header(name: str, size: int) -> bytes:
    """The header tarfile writes for a regular file with mode 0644, mtime 0, uid/gid 0 and no
    owner names (USTAR), built from a template: tarfile's own costs ~15 us a member, which at
    two members a sample was most of a webdataset export. Long names go through tarfile."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) >= 100 or size >= 8**11:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, 0
        return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    size_field = b"%011o\0" % size
    chk = _T_SUM + sum(raw) + sum(size_field)
    return b"".join(
        (raw, _PADS[100 - len(raw)], _T_IDS, size_field, _T_MTIME, b"%06o\0 " % chk, _T_REST)
    )


def _template() -> tuple[bytes, bytes, bytes, int]:
    info = tarfile.TarInfo("x")
    info.mode, info.mtime = 0o644, 0
    buf = info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    ids, mtime, rest = buf[100:124], buf[136:148], buf[156:]
    return ids, mtime, rest, sum(ids) + sum(mtime) + sum(rest) + 8 * ord(" ")


_T_IDS, _T_MTIME, _T_REST, _T_SUM = _template()
_PADS = [bytes(n) for n in range(tarfile.BLOCKSIZE)]


class TarWriter:
    """Appends members to a new tar file; close() ends it as tarfile does (two zero blocks,
    padded to a whole 10240-byte record), so the bytes equal tarfile's."""

    def __init__(self, path: Path):
        self._f = open(path, "wb")
        self._offset = 0

    def add(self, name: str, data: bytes) -> None:
        size = len(data)
        pad = -size % tarfile.BLOCKSIZE
        self._f.write(b"".join((_ustar_header(name, size), data, _PADS[pad])))
        self._offset += tarfile.BLOCKSIZE + size + pad

    def close(self) -> None:
        end = self._offset + 2 * tarfile.BLOCKSIZE
        self._f.write(bytes(2 * tarfile.BLOCKSIZE + (-end % tarfile.RECORDSIZE)))
        self._f.close()
