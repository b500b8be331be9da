"""What every export format provides: a writer over the export selection and a record reader."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.export.conversation import Conversation
from core.export.jsonstream import iter_json_records

SPLIT_NAMES = {
    "train": "train",
    "val": "val",
    "validation": "val",
    "valid": "val",
    "dev": "val",
    "test": "test",
}
_SPLIT_IN_NAME = re.compile(r"(?:^|[_\-.])(train|validation|valid|val|dev|test)(?:[_\-.]|$)")


class RecordError(Exception):
    """A record whose structure the format does not allow; `code` names the rule."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass
class ReadContext:
    """Where a data file's relative image paths point, and what else a reader needs to know."""

    data_file: Path
    image_base: Path
    split: str | None = None
    options: dict = field(default_factory=dict)  # format specific: column / tag mappings
    cache_dir: Path | None = None


def cache_image(data: bytes, name: str, ctx: ReadContext) -> Path:
    """Embedded image bytes as a file in the content-addressed cache (readers hand out paths)."""
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    ext = Path(name).suffix.lower() or ".bin"
    dest = ctx.cache_dir / sha[:2] / f"{sha}{ext}"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f"{dest.name}.{id(data)}.tmp")
        tmp.write_bytes(data)
        tmp.replace(dest)
    return dest


def split_of(path: Path) -> str | None:
    m = _SPLIT_IN_NAME.search(path.stem.lower())
    return SPLIT_NAMES[m.group(1)] if m else None


def resolve_image(base: Path, rel: object) -> Path:
    if not isinstance(rel, str) or not rel.strip():
        raise RecordError("bad_record", f"image path {rel!r} is not a non-empty string")
    if "\x00" in rel:  # no file system accepts it; Path.resolve() would raise ValueError
        raise RecordError("bad_record", f"image path {rel!r} holds a NUL character")
    p = Path(rel)
    return p if p.is_absolute() else (base / p).resolve()


def need(rec: object, key: str, kind: type | tuple[type, ...], label: str | None = None):
    if not isinstance(rec, dict):
        raise RecordError("bad_record", f"a record must be a JSON object, not {type(rec).__name__}")
    if key not in rec:
        raise RecordError("bad_record", f"missing key {label or key!r}")
    value = rec[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise RecordError(
            "bad_record", f"{label or key!r} must be {names}, not {type(value).__name__}"
        )
    return value


def text_of(turn: dict, key: str, index: int) -> str:
    value = turn.get(key)
    if value is None:
        raise RecordError("bad_record", f"turn {index + 1} has no {key!r}")
    if not isinstance(value, str):
        raise RecordError("bad_record", f"turn {index + 1}: {key!r} must be a string")
    return value


def record_meta(rec: dict, ctx: ReadContext) -> dict:
    """The neutral meta of a record: our own `meta` object when present, plus the split."""
    meta: dict = {}
    own = rec.get("meta")
    if isinstance(own, dict):
        meta["domain"] = own.get("domain")
        meta["license"] = own.get("license")
        turns = own.get("turns")
        if isinstance(turns, list) and turns and all(isinstance(t, dict) for t in turns):
            meta["turns"] = turns
            meta["itype"] = turns[0].get("itype")
            meta["lang"] = turns[0].get("lang")
    if ctx.split:
        meta["split"] = ctx.split
    return meta


def record_id(rec: dict, index: int) -> str:
    rid = rec.get("id") if isinstance(rec, dict) else None
    return str(rid) if rid is not None else str(index)


class Format:
    """Base of the format registry (core.export.formats.FORMATS)."""

    name = ""
    title = ""
    data_suffix = ".json"
    places_images = True  # False: images travel inside the data files

    def data_file(self, split: str) -> str:
        return f"{split}{self.data_suffix}"

    def manifest_data_files(self, splits: list[str], written: list[str]) -> dict:
        """split -> data file (or list of shards) for manifest.json."""
        return {s: self.data_file(s) for s in splits}

    def extra_files(self) -> tuple[str, ...]:
        """Names, besides the data files, that mark an export folder of this format."""
        return ()

    def find_data_files(self, folder: Path) -> list[Path]:
        skip = {"manifest.json", "dataset_info.json", "meta.json"}
        return sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and p.suffix in (".json", ".jsonl") and p.name not in skip
        )

    def read_context(
        self, data_file: Path, folder: Path, manifest: dict | None, **kw
    ) -> ReadContext:
        return ReadContext(
            data_file, data_file.parent, split_of(data_file), cache_dir=kw.get("cache_dir")
        )

    def iter_raw(self, path: Path) -> Iterator[object]:
        return iter_json_records(path)

    def sniff(self, rec: object) -> bool:
        raise NotImplementedError

    def to_conversation(self, rec: object, index: int, ctx: ReadContext) -> Conversation:
        raise NotImplementedError

    def write(self, job) -> list[str]:
        """Write the data files of every split into job.staging; return their relative names."""
        raise NotImplementedError
