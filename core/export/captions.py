"""Bring your own captions: `mmstudio captions import PROJECT FILE` (and the GUI's
Import captions…).

A file is JSON Lines, a JSON array (or an object of key -> caption) or CSV with a header. Each
row names its image by one of: the project's image id, the sha256 of the image file, its
relative source path (as imported) or its file name; and holds the caption text, optionally
its language and the model that wrote it. Shapes recognised as they are:

- flat rows: `image_id` | `sha256` | `image` / `image_path` / `file_name` / `filename` /
  `path` / `file`, with `caption` / `text` / `description` / `gpt4v_caption_interface`
  (the MMInstruct data engine's output), `lang` / `language`, `model`;
- LLaVA-shaped caption records (ShareGPT4V's caption JSON, the MMInstruct-GPT4V release's
  caption files): `image` plus `conversations`, the caption being the first gpt turn.
  The release (huggingface.co/datasets/yuecao0119/MMInstruct-GPT4V) ships them as JSON
  Lines, `jsons_all/caption_en.jsonl` / `caption_cn.jsonl` and per domain
  `jsons_per_domain/caption_per_domain/<domain>_en.jsonl`, one `{"image", "conversations":
  [{"from": "human", "value": "<image>\n..."}, {"from": "gpt", "value": CAPTION}]}` a
  line, with neither language nor domain on the row: the file name's `_en` / `_cn` says the
  language (`cn` is zh).

Every caption becomes a new version (origin `imported`, model and source file:row kept as
provenance) and the current one in its language; nothing is overwritten. Rows that match no
image are reported; a row that cannot be read stops the import before anything is written,
and the write itself is one transaction.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core.export.errors import ExportError
from core.export.jsonstream import JsonFormatError, iter_json_records
from core.project import Project

KEYS = ("auto", "id", "sha256", "path", "name")
ID_FIELDS = ("image_id",)
SHA_FIELDS = ("sha256", "image_sha256")
PATH_FIELDS = ("image", "image_path", "file_name", "filename", "path", "file", "image_file")
TEXT_FIELDS = ("caption", "text", "description", "gpt4v_caption_interface")
LANG_FIELDS = ("lang", "language")
MAX_SAMPLES = 20
_SHA = re.compile(r"^[0-9a-f]{64}$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class CaptionRow:
    line: int  # 1-based row of the file (JSON: record number)
    key: str
    kind: str  # id | sha256 | path
    text: str
    lang: str | None
    model: str | None


@dataclass
class CaptionImportSummary:
    file: str
    rows: int = 0
    imported: int = 0
    images: int = 0
    by_lang: Counter = field(default_factory=Counter)
    unmatched: int = 0
    ambiguous: int = 0
    samples: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "rows": self.rows,
            "imported": self.imported,
            "images": self.images,
            "by_lang": dict(sorted(self.by_lang.items())),
            "unmatched": self.unmatched,
            "ambiguous": self.ambiguous,
            "unmatched_rows": self.samples,
        }

    def describe(self) -> str:
        text = (
            f"Imported {self.imported} captions of {self.rows} rows onto {self.images} images"
            + (
                f" ({', '.join(f'{k} {v}' for k, v in sorted(self.by_lang.items()))})"
                if self.by_lang
                else ""
            )
        )
        if self.unmatched or self.ambiguous:
            text += f"; {self.unmatched} rows matched no image, {self.ambiguous} matched several"
            for s in self.samples[:5]:
                text += f"\n  row {s['row']}: {s['key']!r} ({s['reason']})"
        return text + "."


def read_rows(
    path: Path, lang: str | None, model: str | None, key: str = "auto"
) -> list[CaptionRow]:
    """Every row of the file, or ExportError naming the first unreadable one."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path} does not exist")
    if key not in KEYS:
        raise ExportError(f"unknown --key {key!r}; expected one of {', '.join(KEYS)}")
    if path.suffix.lower() == ".csv":
        records = _csv_records(path)
    else:
        records = _json_records(path)
    rows = []
    lang = lang or _lang_of_file(path)
    for n, rec in records:
        rows.append(_row(rec, n, lang, model, key))
    if not rows:
        raise ExportError(f"{path.name} holds no caption rows")
    return rows


def _csv_records(path: Path):
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            yield from enumerate(csv.DictReader(f), start=2)  # row 1 is the header
    except UnicodeDecodeError:
        raise ExportError(f"{path.name} is not UTF-8 text") from None
    except csv.Error as exc:
        raise ExportError(f"{path.name}: {exc}") from None


def _json_records(path: Path):
    try:
        first = path.read_text(encoding="utf-8").lstrip()[:1]
    except UnicodeDecodeError:
        raise ExportError(f"{path.name} is not UTF-8 text") from None
    if first == "{" and path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
            # {key: caption}: the key says which image
            yield from ((n, {"key": k, "caption": v}) for n, (k, v) in enumerate(data.items(), 1))
            return
    try:
        yield from enumerate(iter_json_records(path), start=1)
    except JsonFormatError as exc:
        raise ExportError(str(exc)) from None


def _first(rec: dict, names) -> object:
    for name in names:
        value = rec.get(name)
        if value not in (None, ""):
            return value
    return None


def _row(rec: object, n: int, lang: str | None, model: str | None, key: str) -> CaptionRow:
    if not isinstance(rec, dict):
        raise ExportError(f"row {n} is not an object")
    # The MMInstruct data engine's rows hold their OCR lines under `text`: strings only.
    text = next(
        (v for v in (rec.get(k) for k in TEXT_FIELDS) if isinstance(v, str) and v.strip()), None
    )
    convs = rec.get("conversations")
    if text is None and isinstance(convs, list):
        text = next(
            (
                t.get("value")
                for t in convs
                if isinstance(t, dict) and t.get("from") in ("gpt", "assistant")
            ),
            None,
        )
    if not isinstance(text, str) or not text.strip():
        raise ExportError(f"row {n} has no caption text (one of {', '.join(TEXT_FIELDS)})")
    kind, value = _key_of(rec, key)
    if value is None:
        raise ExportError(f"row {n} names no image (image_id, sha256, image path or file name)")
    row_lang = _first(rec, LANG_FIELDS) or lang or _guess_lang(text)
    row_lang = str(row_lang).lower().replace("_", "-").split("-")[0]
    row_lang = LANG_ALIASES.get(row_lang, row_lang)
    from core.vocab import LANGS

    if row_lang not in LANGS:
        raise ExportError(f"row {n}: language {row_lang!r} is not one of {', '.join(LANGS)}")
    row_model = rec.get("model") or model
    return CaptionRow(n, str(value), kind, text.strip(), row_lang, row_model and str(row_model))


def _key_of(rec: dict, key: str) -> tuple[str, object]:
    if "key" in rec and len(rec) == 2:  # from a {key: caption} object
        return "auto", rec["key"]
    wanted = {
        "id": (("id", ID_FIELDS + ("id",)),),
        "sha256": (("sha256", SHA_FIELDS),),
        "path": (("path", PATH_FIELDS),),
        "name": (("name", PATH_FIELDS),),
        "auto": (("id", ID_FIELDS), ("sha256", SHA_FIELDS), ("auto", PATH_FIELDS)),
    }[key]
    for kind, names in wanted:
        value = _first(rec, names)
        if value is not None:
            return kind, value
    return "auto", None


# Language codes as files name them (the MMInstruct release says cn) -> ours
LANG_ALIASES = {"cn": "zh", "chs": "zh", "chinese": "zh", "english": "en"}


def _lang_of_file(path: Path) -> str | None:
    """`caption_cn.jsonl`, `landmark_en.jsonl`: the language its last name part says."""
    tail = re.split(r"[_\-.]", path.stem.lower())[-1]
    tail = LANG_ALIASES.get(tail, tail)
    from core.vocab import LANGS

    return tail if tail in LANGS else None


def _guess_lang(text: str) -> str:
    return "zh" if len(_CJK.findall(text)) * 3 > len(text) else "en"


class ImageIndex:
    """Every way a row may name an image of the project."""

    def __init__(self, images: list[tuple], sources: list[tuple]):
        self.ids = {i for i, _, _ in images}
        self.by_sha = {sha: i for i, sha, _ in images}
        self.by_path: dict[str, set[int]] = {}
        self.by_name: dict[str, set[int]] = {}
        for image_id, p in [*sources, *((i, p) for i, _, p in images)]:
            parts = PurePosixPath(p.replace("\\", "/")).parts
            # every tail of the source path: "coco/train2017/x.jpg" matches ".../coco/train2017/x.jpg"
            for k in range(len(parts)):
                self.by_path.setdefault("/".join(parts[k:]), set()).add(image_id)
            self.by_name.setdefault(parts[-1] if parts else p, set()).add(image_id)

    def find(self, kind: str, key: str) -> tuple[int | None, str]:
        """(image id, reason when None)."""
        key = key.strip()
        if kind in ("id", "auto") and re.fullmatch(r"\d+", key):
            if int(key) in self.ids:
                return int(key), ""
            if kind == "id":
                return None, "no image with this id"
        low = key.lower()
        stem = PurePosixPath(low.replace("\\", "/")).stem
        for candidate in (low, stem):
            if _SHA.match(candidate) and candidate in self.by_sha:
                return self.by_sha[candidate], ""
        if kind == "sha256":
            return None, "no image with this sha256"
        rel = "/".join(
            p for p in PurePosixPath(key.replace("\\", "/")).parts if p not in ("/", ".")
        )
        if kind != "name" and rel in self.by_path:
            return _one(self.by_path[rel])
        if kind == "path":
            return None, "no image was imported from this path"
        name = PurePosixPath(rel).name
        if name in self.by_name:
            return _one(self.by_name[name])
        return None, "no image matches"


def _one(ids: set[int]) -> tuple[int | None, str]:
    if len(ids) == 1:
        return next(iter(ids)), ""
    return None, f"ambiguous: {len(ids)} images"


def import_captions(
    project: Project,
    path: Path,
    *,
    lang: str | None = None,
    model: str | None = None,
    key: str = "auto",
    require_all: bool = False,
) -> CaptionImportSummary:
    """Import the captions of `path`; see the module doc. `require_all`: refuse the whole file
    when any row matches no image."""
    import pyarrow as pa

    from core.store import caption_import as store

    path = Path(path)
    rows = read_rows(path, lang, model, key)
    summary = CaptionImportSummary(path.name, rows=len(rows))
    index = ImageIndex(*store.image_keys(project.db.cursor()))
    matched: list[tuple[int, CaptionRow]] = []
    for row in rows:
        image_id, reason = index.find(row.kind, row.key)
        if image_id is None:
            if reason.startswith("ambiguous"):
                summary.ambiguous += 1
            else:
                summary.unmatched += 1
            if len(summary.samples) < MAX_SAMPLES:
                summary.samples.append({"row": row.line, "key": row.key, "reason": reason})
            continue
        matched.append((image_id, row))
    if require_all and (summary.unmatched or summary.ambiguous):
        first = summary.samples[0]
        raise ExportError(
            f"{summary.unmatched + summary.ambiguous} of {len(rows)} rows match no single image "
            f"(first: row {first['row']} {first['key']!r}: {first['reason']}); nothing imported"
        )
    if matched:
        table = pa.table(
            {
                "image_id": pa.array([i for i, _ in matched], pa.int64()),
                "text": pa.array([r.text for _, r in matched], pa.string()),
                "lang": pa.array([r.lang for _, r in matched], pa.string()),
                "model": pa.array([r.model for _, r in matched], pa.string()),
                "source": pa.array([f"{path.name}:{r.line}" for _, r in matched], pa.string()),
                "seq": pa.array(range(len(matched)), pa.int64()),
            }
        )
        with project.db.tx() as cur:
            store.add_captions(cur, table)
    summary.imported = len(matched)
    summary.images = len({i for i, _ in matched})
    summary.by_lang.update(r.lang for _, r in matched)
    return summary
