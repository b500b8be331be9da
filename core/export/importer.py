"""Import training data (any supported format) into a project: images through the library
importer, each question-answer pair as an instruction with origin 'imported'.

Two passes over the file: the first parses and checks every record and gathers the images,
so a malformed file is refused before anything is written; the second inserts the rows.
Our own exports carry `meta` (domain, license, per-turn type, language and answer-format
suffix), which makes the import exact; third-party files get the type and language guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.changes import Changes
from core.export import safetext
from core.export.conversation import Conversation, split_rendered
from core.export.errors import ExportError
from core.export.formats import RecordError
from core.export.manifest import file_sha256
from core.export.readers import detect_format, iter_records
from core.export.validate import check_conversation
from core.project import Project
from core.store import data_import as store
from core.vocab import ITEM_STATUSES as STATUSES
from core.vocab import ITYPES, LANGS

BATCH = 5000
MAX_SAMPLES = 20
_TOKEN = re.compile(r"<image>\n?")
_LETTER = re.compile(r"^\(?([A-H])\)?(?:[.:)\s].*)?$", re.S)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_YES_NO = {"yes": ("yes", "en"), "no": ("no", "en"), "是": ("是", "zh"), "否": ("否", "zh")}


@dataclass
class DataImportSummary:
    format: str
    records: int = 0
    instructions: int = 0
    images: int = 0
    images_new: int = 0
    skipped: Counter = field(default_factory=Counter)
    problems: list[dict] = field(default_factory=list)
    batch_id: int | None = None
    image_ids: list[int] = field(default_factory=list)  # images the records use (not in --json)
    instruction_ids: list[int] = field(default_factory=list)  # the rows added

    def changes(self) -> Changes:
        return Changes.of(self.image_ids, self.instruction_ids, added=self.images_new > 0)

    def to_json(self) -> dict:
        return {
            "format": self.format,
            "records": self.records,
            "instructions": self.instructions,
            "images": self.images,
            "images_new": self.images_new,
            "skipped": dict(sorted(self.skipped.items())),
            "problems": self.problems,
            "batch_id": self.batch_id,
        }

    def describe(self) -> str:
        text = (
            f"Imported {self.instructions} instructions from {self.records} {self.format} records "
            f"over {self.images} images ({self.images_new} new)"
        )
        if self.skipped:
            text += "; skipped " + ", ".join(f"{k}: {v}" for k, v in sorted(self.skipped.items()))
        return text + "."


def import_data(
    project: Project,
    path: Path,
    fmt: str | None = None,
    *,
    domain: str | None = None,
    status: str = "accepted",
    skip_invalid: bool = False,
    image_folder: Path | None = None,
    workers: int | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> DataImportSummary:
    """Import `path` (an export folder or a data file). `domain` applies to records that do not
    name one. Invalid records stop the import before anything is written unless
    `skip_invalid`, which skips and counts them."""
    if status not in STATUSES:
        raise ExportError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    path = Path(path)
    fmt = fmt or detect_format(path)
    summary = DataImportSummary(fmt)
    read = {"image_folder": image_folder}
    wanted: dict[Path, tuple[str | None, str | None]] = {}
    for file, index, conv in iter_records(path, fmt, **read):
        summary.records += 1
        reason = _usable(conv, summary, file, index)
        if reason is None:
            img = conv.images[0]
            if img not in wanted:
                wanted[img] = (conv.meta.get("domain") or domain, conv.meta.get("license"))
    invalid = summary.skipped.get("invalid", 0)
    if invalid and not skip_invalid:
        first = summary.problems[0]
        raise ExportError(
            f"{invalid} invalid record(s), nothing imported; first: {first['file']} record "
            f"{first['record'] + 1}: {first['message']} (run `mmstudio validate`, or import with "
            "--skip-invalid)"
        )
    from core.store.backup import snapshot

    snapshot(project, "before-import-data")  # a bulk change: the way back is one restore
    if on_progress:
        on_progress(f"images {len(wanted)}")
    ids = _import_images(project, wanted, summary, workers)
    if on_progress:
        on_progress("instructions")
    _insert_instructions(project, path, fmt, read, ids, status, summary)
    return summary


def _usable(conv, summary: DataImportSummary, file: Path, index: int) -> str | None:
    if isinstance(conv, RecordError):
        problems = [(conv.code, str(conv))]
    else:
        problems = check_conversation(conv)
    if problems:
        summary.skipped["invalid"] += 1
        if len(summary.problems) < MAX_SAMPLES:
            code, message = problems[0]
            summary.problems.append(
                {"file": file.name, "record": index, "code": code, "message": message}
            )
        return "invalid"
    if len(conv.images) != 1:
        # An instruction belongs to one image: text-only and multi-image records do not fit.
        reason = "no_image" if not conv.images else "several_images"
        summary.skipped[reason] += 1
        return reason
    return None


def _import_images(
    project: Project, wanted: dict, summary: DataImportSummary, workers
) -> dict[Path, int]:
    from core.domains import ensure_domain
    from core.library.importer import import_paths

    if not wanted:
        return {}
    lib = import_paths(project, list(wanted), domain=None, workers=workers)
    summary.batch_id = lib.batch_id
    summary.images_new = lib.imported
    shas = {p: file_sha256(p) for p in wanted}
    cur = project.db.cursor()
    by_sha = store.image_ids_by_sha(cur, sorted(set(shas.values())))
    ids = {p: by_sha[s] for p, s in shas.items() if s in by_sha}
    for name in sorted({d for d, _ in wanted.values() if d}):
        ensure_domain(project.db, name)
    with project.db.tx() as cur:
        store.fill_image_fields(
            cur, [(ids[p], d, lic) for p, (d, lic) in wanted.items() if p in ids]
        )
    summary.images = len(set(ids.values()))
    summary.image_ids = sorted(set(ids.values()))
    return ids


def _insert_instructions(project, path, fmt, read, ids, status, summary) -> None:
    """Second pass: the rows of every usable record, inserted BATCH at a time."""
    pending: list[tuple[int, list[tuple]]] = []  # (image_id, rows of one record)
    size = 0
    scratch = DataImportSummary(fmt)
    with project.db.tx() as cur:
        for file, index, conv in iter_records(path, fmt, **read):
            if _usable(conv, scratch, file, index) is not None:
                continue
            image_id = ids.get(conv.images[0])
            if image_id is None:
                summary.skipped["image_rejected"] += 1
                continue
            rows = _rows(conv)
            pending.append((image_id, rows))
            size += len(rows)
            summary.instructions += len(rows)
            if size >= BATCH:
                summary.instruction_ids += _flush(cur, pending, size, status)
                pending, size = [], 0
        if pending:
            summary.instruction_ids += _flush(cur, pending, size, status)


def _flush(cur, pending: list[tuple[int, list[tuple]]], size: int, status: str) -> list[int]:
    """Insert a batch; ids are drawn in one go so that a record's rounds can point at their
    first row (conversation_id) and the ids keep the file's order."""
    new_ids = iter(store.allocate_instruction_ids(cur, size))
    cols: dict[str, list] = {c: [] for c in store.IMPORT_COLUMNS}
    for image_id, rows in pending:
        multi = len(rows) > 1
        first = None
        for k, (itype, lang, question, options, answer) in enumerate(rows):
            nid = next(new_ids)
            first = first or nid
            values = (nid, image_id, itype, lang, question, options, answer, "imported", status,
                      first if multi else None, k + 1 if multi else None)  # fmt: skip
            for c, v in zip(store.IMPORT_COLUMNS, values, strict=True):
                cols[c].append(v)
    store.insert_instructions(cur, cols)
    return cols["id"]


def _rows(conv: Conversation) -> list[tuple]:
    """(itype, lang, question, options, answer) per question-answer pair of a record."""
    pairs = conv.pairs()
    turns = conv.meta.get("turns")
    ours = isinstance(turns, list) and len(turns) == len(pairs)
    restore = safetext.unescape if conv.meta.get("text_escape") else str
    out = []
    for k, (user, answer) in enumerate(pairs):
        # The real image tokens go first; then the escaped ones may become text again.
        text, answer = restore(_TOKEN.sub("", user)), restore(answer)
        if ours:
            t = turns[k]
            itype, lang = t.get("itype"), t.get("lang")
            if itype in ITYPES and lang in LANGS:
                question, options, _ = split_rendered(
                    text, t.get("suffix") or "", itype == "multiple_choice"
                )
                out.append((itype, lang, question, options, answer))
                continue
        out.append(_guess(text.strip(), answer.strip()))
    return out


def _guess(text: str, answer: str) -> tuple:
    """Type and language of a third-party pair, from the shape of its question and answer."""
    lang = "zh" if len(_CJK.findall(text + answer)) * 3 > len(text + answer) else "en"
    question, options, _ = split_rendered(text)
    letter = _LETTER.match(answer)
    if options and letter and letter.group(1) < "ABCDEFGH"[len(options)]:
        return ("multiple_choice", lang, question, options, letter.group(1))
    yes_no = _YES_NO.get(answer.lower().rstrip(".!。！"))
    if yes_no:
        return ("judgement", yes_no[1] if lang == "zh" else lang, text, None, yes_no[0])
    short = len(answer.split()) <= 5 if lang == "en" else len(answer) <= 12
    return ("short_vqa" if short else "long_vqa", lang, text, None, answer)
