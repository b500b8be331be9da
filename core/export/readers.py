"""Read training data in any supported format as neutral `Conversation`s.

This is the one door from trainer/ into core.export: `iter_conversations` takes an export
folder (the format comes from its manifest or its files) or a single data file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from core.export.conversation import Conversation
from core.export.errors import ExportError
from core.export.formats import FORMATS, SNIFF_ORDER, Format, RecordError
from core.export.formats.sharegpt import DATASET_INFO
from core.export.jsonstream import read_json_object

MANIFEST = "manifest.json"

__all__ = ["Conversation", "detect_format", "iter_conversations", "iter_records", "data_files"]


def load_manifest(folder: Path) -> dict | None:
    return read_json_object(folder / MANIFEST)


def detect_format(path: Path) -> str:
    """The format name of an export folder or data file ('llava', 'sharegpt', 'hf', 'trl')."""
    path = Path(path)
    if not path.exists():
        raise ExportError(f"{path} does not exist")
    if path.is_dir():
        manifest = load_manifest(path)
        if manifest and manifest.get("format") in FORMATS:
            return manifest["format"]
        if (path / DATASET_INFO).is_file():
            return "sharegpt"
        if FORMATS["internvl"].find_data_files(path) and (path / "meta.json").is_file():
            return "internvl"
        if FORMATS["webdataset"].find_data_files(path):
            return "webdataset"
        if FORMATS["hf"].find_data_files(path):
            return "hf"
        candidates = FORMATS["llava"].find_data_files(path)
        if not candidates:
            raise ExportError(f"{path} holds no training data files (.json, .jsonl, .parquet)")
        return _sniff_file(candidates[0])
    if path.suffix == ".parquet":
        return "hf"
    if path.suffix == ".tar":
        return "webdataset"
    if _named_in_meta(path):
        return "internvl"
    if _named_in_dataset_info(path):
        return "sharegpt"
    return _sniff_file(path)


def _named_in_dataset_info(path: Path) -> bool:
    info = path.parent / DATASET_INFO
    if not info.is_file() or path.name == DATASET_INFO:
        return False
    try:
        data = json.loads(info.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(data, dict) and any(
        isinstance(e, dict) and e.get("file_name") == path.name for e in data.values()
    )


def _named_in_meta(path: Path) -> bool:
    from core.export.formats.internvl import META

    try:
        meta = read_json_object(path.parent / META) or {}
    except ExportError:
        return False
    return any(isinstance(e, dict) and e.get("annotation") == path.name for e in meta.values())


def _sniff_file(path: Path) -> str:
    for rec in FORMATS["llava"].iter_raw(path):
        for name in SNIFF_ORDER:
            if FORMATS[name].sniff(rec):
                return name
        break
    raise ExportError(
        f"cannot tell the format of {path.name}: its first record is not LLaVA, ShareGPT or "
        "TRL shaped; name it with --format"
    )


def data_files(path: Path, fmt: str) -> tuple[Format, list[Path], Path, dict | None]:
    """(format, its data files in split order, the folder, the manifest if any)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    f = FORMATS[fmt]
    if path.is_dir():
        manifest = load_manifest(path)
        if (
            manifest
            and manifest.get("format") == fmt
            and isinstance(manifest.get("data_files"), dict)
        ):
            files = [
                path / rel
                for entry in manifest["data_files"].values()
                for rel in (entry if isinstance(entry, list) else [entry])
            ]
        else:
            files = f.find_data_files(path)
        if not files:
            raise ExportError(f"{path} holds no {f.title} data files")
        return f, files, path, manifest
    if not path.is_file():
        raise ExportError(f"{path} does not exist")
    return f, [path], path.parent, load_manifest(path.parent)


def iter_records(
    path: Path,
    fmt: str | None = None,
    *,
    image_folder: Path | None = None,
    cache_dir: Path | None = None,
) -> Iterator[tuple[Path, int, Conversation | RecordError]]:
    """(data file, index in it, the conversation or the reason the record is malformed).

    Bad JSON raises core.export.jsonstream.JsonFormatError with line and column.
    """
    fmt = fmt or detect_format(path)
    f, files, folder, manifest = data_files(path, fmt)
    escaped = text_escape(manifest)
    for file in files:
        if not file.is_file():
            raise ExportError(f"data file {file.name} is missing")
        ctx = f.read_context(file, folder, manifest, image_folder=image_folder, cache_dir=cache_dir)
        for index, rec in enumerate(f.iter_raw(file)):
            try:
                conv = f.to_conversation(rec, index, ctx)
            except RecordError as exc:
                yield file, index, exc
                continue
            if escaped:
                # Text stays escaped (a trainer must not see the tokens); the importer and
                # anyone else who wants the original text applies safetext.unescape.
                conv.meta["text_escape"] = escaped
            yield file, index, conv


def text_escape(manifest: dict | None) -> str | None:
    """The escape scheme an export of ours applied to its text (see core.export.safetext)."""
    unsafe = (manifest or {}).get("unsafe_text")
    return unsafe.get("escape") if isinstance(unsafe, dict) else None


def iter_conversations(
    path: Path,
    fmt: str | None = None,
    *,
    image_folder: Path | None = None,
    cache_dir: Path | None = None,
) -> Iterator[Conversation]:
    """Every record of an export folder or data file, in file order (train before val).

    A malformed record raises ExportError naming the file and record; `mmstudio validate`
    lists all of them at once. HF parquet images are written once to `cache_dir` (default:
    the user folder's cache/images) so that every Conversation hands out file paths.
    """
    for file, index, item in iter_records(
        path, fmt, image_folder=image_folder, cache_dir=cache_dir
    ):
        if isinstance(item, RecordError):
            raise ExportError(f"{file.name}, record {index + 1}: {item}")
        yield item
