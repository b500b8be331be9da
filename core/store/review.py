"""Human edits: each is validated, applied and logged in `revisions` in one transaction.

Every edit function returns the list of `Change`s it made. Applying their inverses (in reverse
order) undoes the edit; `apply_changes` does both undo and redo and refuses, changing nothing,
when a value is no longer what the change expects (someone or some job changed it since).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from core.errors import StudioError
from core.store.db import Database
from core.store.temp_tables import SLICE_ROWS, fill_temp
from core.vocab import DECISIONS, IMAGE_STATUSES
from core.vocab import ITEM_STATUSES as INSTRUCTION_STATUSES
from core.vocab import MACHINE_STATUSES as UNDECIDED

EDITABLE_INSTRUCTION_FIELDS = ("question", "options", "answer")


class ReviewError(StudioError):
    pass


class EditConflict(ReviewError):
    pass


def default_author() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers and services
        return "user"


@dataclass(frozen=True)
class Change:
    table: str
    row_id: int
    field: str
    old: Any
    new: Any

    def inverse(self) -> Change:
        return Change(self.table, self.row_id, self.field, self.new, self.old)


def inverse(changes: Sequence[Change]) -> list[Change]:
    return [c.inverse() for c in reversed(changes)]


# Field registry: how to read, write and describe (for the revision log) each editable value.
Cursor = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class _Field:
    read: Callable[[Cursor, int], Any]
    write: Callable[[Cursor, int, Any], None]
    describe: Callable[[Cursor, Any], str | None]


def _column(table: str, column: str, touch: bool) -> _Field:
    def read(cur: Cursor, row_id: int) -> Any:
        row = cur.execute(f"SELECT {column} FROM {table} WHERE id = ?", [row_id]).fetchone()
        if row is None:
            raise ReviewError(f"{table} row {row_id} does not exist")
        return row[0]

    def write(cur: Cursor, row_id: int, value: Any) -> None:
        stamp = ", updated_at = current_timestamp" if touch else ""
        cur.execute(f"UPDATE {table} SET {column} = ?{stamp} WHERE id = ?", [value, row_id])

    def describe(cur: Cursor, value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False)

    return _Field(read, write, describe)


def _read_caption(cur: Cursor, image_id: int) -> int | None:
    row = cur.execute(
        "SELECT max(id) FROM captions WHERE image_id = ? AND is_current", [image_id]
    ).fetchone()
    return row[0]


def _write_caption(cur: Cursor, image_id: int, caption_id: int | None) -> None:
    cur.execute(
        "UPDATE captions SET is_current = coalesce(id = ?, false) WHERE image_id = ?",
        [caption_id, image_id],
    )


def _describe_caption(cur: Cursor, caption_id: int | None) -> str | None:
    if caption_id is None:
        return None
    row = cur.execute("SELECT text FROM captions WHERE id = ?", [caption_id]).fetchone()
    return row[0] if row else None


_FIELDS: dict[tuple[str, str], _Field] = {
    ("instructions", "question"): _column("instructions", "question", touch=True),
    ("instructions", "options"): _column("instructions", "options", touch=True),
    ("instructions", "answer"): _column("instructions", "answer", touch=True),
    ("instructions", "status"): _column("instructions", "status", touch=True),
    ("images", "status"): _column("images", "status", touch=False),
    ("images", "domain"): _column("images", "domain", touch=False),
    # The image's current caption version (a captions.id); the log records the texts.
    ("images", "caption"): _Field(_read_caption, _write_caption, _describe_caption),
}


# Plain text columns a bulk action sets on many rows at once (accept 100k items).
# The value says whether the row's updated_at is stamped.
_BATCHABLE = {
    ("instructions", "status"): True,
    ("instructions", "question"): True,
    ("instructions", "answer"): True,
    ("images", "status"): False,
    ("images", "domain"): False,
}
_BATCH_MIN = 64


_SLICE = SLICE_ROWS  # rows bound per INSERT of a batch's temp table


def _fill(cur: Cursor, name: str, kind: str, changes: list[Change]) -> None:
    """The batch as the temp table `name` (id, old, new)."""
    cols = [("id", "BIGINT"), ("old", kind), ("new", kind)]
    values = [[c.row_id for c in changes], [c.old for c in changes], [c.new for c in changes]]
    fill_temp(cur, name, cols, values, _SLICE)


def _drop(cur: Cursor, name: str) -> None:
    try:
        cur.execute(f"DROP TABLE IF EXISTS {name}")
    except duckdb.Error:  # the transaction failed: its rollback takes the table away too
        pass


def _apply_batch(cur: Cursor, table: str, field: str, changes: list[Change], author: str) -> None:
    """The same checks and log as one change at a time, as three statements."""
    ids = [c.row_id for c in changes]
    if len(set(ids)) != len(ids):
        raise ReviewError(f"{table}.{field}: one batch changes a row twice")
    _fill(cur, "review_batch", "VARCHAR", changes)
    try:
        found, bad = cur.execute(
            f"SELECT count(t.id), count(*) FILTER (WHERE t.{field} IS DISTINCT FROM b.old) "
            f"FROM review_batch b LEFT JOIN {table} t ON t.id = b.id"
        ).fetchall()[0]
        if found != len(ids):
            raise ReviewError(f"{len(ids) - found} {table} rows of this change do not exist")
        if bad:
            raise EditConflict(
                f"{bad} {table} rows: {field} changed since this edit; nothing was changed"
            )
        stamp = ", updated_at = current_timestamp" if _BATCHABLE[(table, field)] else ""
        cur.execute(
            f"UPDATE {table} SET {field} = b.new{stamp} FROM review_batch b WHERE {table}.id = b.id"
        )
        cur.execute(
            "INSERT INTO revisions (tbl, row_id, field, old, new, author) "
            "SELECT ?, id, ?, old, new, ? FROM review_batch",
            [table, field, author],
        )
    finally:
        _drop(cur, "review_batch")


def _runs(changes: list[Change]) -> Iterator[list[Change]]:
    """Consecutive changes of one table and field (order kept, so undo replays right)."""
    start = 0
    for k in range(1, len(changes) + 1):
        if k == len(changes) or (changes[k].table, changes[k].field) != (
            changes[start].table,
            changes[start].field,
        ):
            yield changes[start:k]
            start = k


def _batchable(run: list[Change]) -> bool:
    first = run[0]
    return (
        len(run) >= _BATCH_MIN
        and (first.table, first.field) in _BATCHABLE
        and all(isinstance(v, str | None) for c in run for v in (c.old, c.new))
    )


def _apply_caption_batch(cur: Cursor, changes: list[Change], author: str) -> None:
    """Which caption version is current, for many images at once (a find-and-replace over
    captions): the same check and log as _apply_each, as four statements."""
    ids = [c.row_id for c in changes]
    if len(set(ids)) != len(ids):
        raise ReviewError("images.caption: one batch changes an image twice")
    _fill(cur, "caption_batch", "BIGINT", changes)
    try:
        found, bad = cur.execute(
            "SELECT count(i.id), count(*) FILTER (WHERE c.top IS DISTINCT FROM b.old) "
            "FROM caption_batch b LEFT JOIN images i ON i.id = b.id LEFT JOIN "
            "(SELECT image_id, max(id) AS top FROM captions WHERE is_current GROUP BY 1) c "
            "ON c.image_id = b.id"
        ).fetchall()[0]
        if found != len(ids):
            raise ReviewError(f"{len(ids) - found} images of this change do not exist")
        if bad:
            raise EditConflict(
                f"{bad} images: caption changed since this edit; nothing was changed"
            )
        cur.execute(
            "UPDATE captions SET is_current = coalesce(captions.id = b.new, false) "
            "FROM caption_batch b WHERE captions.image_id = b.id"
        )
        cur.execute(
            "INSERT INTO revisions (tbl, row_id, field, old, new, author) "
            "SELECT 'images', b.id, 'caption', o.text, n.text, ? FROM caption_batch b "
            "LEFT JOIN captions o ON o.id = b.old LEFT JOIN captions n ON n.id = b.new",
            [author],
        )
    finally:
        _drop(cur, "caption_batch")


def _caption_run(run: list[Change]) -> bool:
    return (
        len(run) >= _BATCH_MIN
        and (run[0].table, run[0].field) == ("images", "caption")
        and all(isinstance(v, int | None) for c in run for v in (c.old, c.new))
    )


def _apply(cur: Cursor, changes: Iterable[Change], author: str) -> None:
    for run in _runs(list(changes)):
        if _batchable(run):
            _apply_batch(cur, run[0].table, run[0].field, run, author)
        elif _caption_run(run):
            _apply_caption_batch(cur, run, author)
        else:
            _apply_each(cur, run, author)


def apply_in(cur: Cursor, changes: Sequence[Change], author: str | None = None) -> None:
    """Apply `changes` inside the caller's transaction (bulk edits in core.store.bulk)."""
    _apply(cur, changes, author or default_author())


def _apply_each(cur: Cursor, changes: list[Change], author: str) -> None:
    for ch in changes:
        spec = _FIELDS.get((ch.table, ch.field))
        if spec is None:
            raise ReviewError(f"{ch.table}.{ch.field} is not editable")
        current = spec.read(cur, ch.row_id)
        if current != ch.old:
            raise EditConflict(
                f"{ch.table} {ch.row_id}: {ch.field} changed since this edit "
                f"(now {spec.describe(cur, current)!r}); nothing was changed"
            )
        spec.write(cur, ch.row_id, ch.new)
        cur.execute(
            "INSERT INTO revisions (tbl, row_id, field, old, new, author) VALUES (?, ?, ?, ?, ?, ?)",
            [
                ch.table,
                ch.row_id,
                ch.field,
                spec.describe(cur, ch.old),
                spec.describe(cur, ch.new),
                author,
            ],
        )


def apply_changes(db: Database, changes: Sequence[Change], author: str | None = None) -> None:
    """Apply `changes` atomically (undo passes `inverse(changes)`), logging each one."""
    with db.tx() as cur:
        _apply(cur, changes, author or default_author())


# validation -----------------------------------------------------------------------------
_JUDGEMENT = {"yes": "yes", "no": "no", "是": "是", "否": "否"}


def _judgement_answer(value: str, item: dict) -> str:
    got = _JUDGEMENT.get(value.strip().lower())
    if got is None:
        raise ReviewError("a judgement answer is yes or no (是 or 否 in Chinese)")
    return got


def _choice_answer(value: str, item: dict) -> str:
    letter = value.strip().upper().rstrip(".)")
    if letter not in ("A", "B", "C", "D"):
        raise ReviewError("a multiple-choice answer is one of the letters A, B, C, D")
    return letter


def _free_answer(value: str, item: dict) -> str:
    value = value.strip()
    if not value:
        raise ReviewError("the answer is empty")
    return value


_ANSWER_RULES: dict[str, Callable[[str, dict], str]] = {
    "judgement": _judgement_answer,
    "multiple_choice": _choice_answer,
    "short_vqa": _free_answer,
    "long_vqa": _free_answer,
}


def _question(value: Any, item: dict) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ReviewError("the question is empty")
    return value.strip()


def _answer(value: Any, item: dict) -> str:
    if not isinstance(value, str):
        raise ReviewError("the answer must be text")
    return _ANSWER_RULES.get(item["itype"], _free_answer)(value, item)


def _options(value: Any, item: dict) -> list[str]:
    if item["itype"] != "multiple_choice":
        raise ReviewError(f"a {item['itype']} instruction has no options")
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise ReviewError("a multiple-choice question has exactly four options (A-D)")
    cleaned = [str(v).strip() for v in value]
    if not all(cleaned):
        raise ReviewError("an option is empty")
    return cleaned


_VALIDATORS: dict[str, Callable[[Any, dict], Any]] = {
    "question": _question,
    "answer": _answer,
    "options": _options,
}


def validate_value(field: str, value: Any, itype: str) -> Any:
    """The stored form of an instruction's new question, options or answer (a ReviewError
    says why it is refused): the rules a single edit follows, for bulk edits."""
    validate = _VALIDATORS.get(field)
    if validate is None:
        raise ReviewError(f"cannot edit {field!r}")
    return validate(value, {"itype": itype})


def _instruction(cur: Cursor, instruction_id: int) -> dict:
    row = cur.execute(
        "SELECT itype, lang, question, options, answer, status FROM instructions WHERE id = ?",
        [instruction_id],
    ).fetchone()
    if row is None:
        raise ReviewError(f"instruction {instruction_id} does not exist")
    return dict(zip(("itype", "lang", "question", "options", "answer", "status"), row, strict=True))


# edits ----------------------------------------------------------------------------------
def edit_instruction(
    db: Database, instruction_id: int, field: str, value: Any, author: str | None = None
) -> list[Change]:
    """Set an instruction's question, options or answer; [] when the value is unchanged."""
    validate = _VALIDATORS.get(field)
    if validate is None:
        raise ReviewError(
            f"cannot edit {field!r}; editable: {', '.join(EDITABLE_INSTRUCTION_FIELDS)}"
        )
    with db.tx() as cur:
        item = _instruction(cur, instruction_id)
        new = validate(value, item)
        if new == item[field]:
            return []
        changes = [Change("instructions", instruction_id, field, item[field], new)]
        _apply(cur, changes, author or default_author())
    return changes


def set_instruction_status(
    db: Database, instruction_ids: Iterable[int], status: str, author: str | None = None
) -> list[Change]:
    if status not in INSTRUCTION_STATUSES:
        raise ReviewError(f"unknown instruction status {status!r}")
    ids = list(dict.fromkeys(instruction_ids))
    with db.tx() as cur:
        # One read for all of them (a bulk action passes 100k ids), in the order given.
        old = dict(
            cur.execute(
                "SELECT id, status FROM instructions WHERE id IN (SELECT unnest(?::BIGINT[]))",
                [ids],
            ).fetchall()
        )
        missing = [i for i in ids if i not in old]
        if missing:
            raise ReviewError(f"instruction {missing[0]} does not exist")
        changes = [
            Change("instructions", iid, "status", old[iid], status)
            for iid in ids
            if old[iid] != status
        ]
        _apply(cur, changes, author or default_author())
    return changes


def set_image_status(
    db: Database, image_id: int, status: str, author: str | None = None, cascade: bool = True
) -> list[Change]:
    """Decide an image. With `cascade`, a decision also applies to its undecided instructions
    (new, ok, needs_review); instructions a person already decided keep their status."""
    if status not in IMAGE_STATUSES:
        raise ReviewError(f"unknown image status {status!r}")
    with db.tx() as cur:
        old = _FIELDS[("images", "status")].read(cur, image_id)
        changes = [] if old == status else [Change("images", image_id, "status", old, status)]
        if cascade and status in DECISIONS:
            placeholders = ", ".join("?" for _ in UNDECIDED)
            rows = cur.execute(
                f"SELECT id, status FROM instructions WHERE image_id = ? "
                f"AND status IN ({placeholders}) ORDER BY id",
                [image_id, *UNDECIDED],
            ).fetchall()
            changes += [Change("instructions", iid, "status", s, status) for iid, s in rows]
        _apply(cur, changes, author or default_author())
    return changes


def set_image_domain(
    db: Database, image_ids: Iterable[int], domain: str, author: str | None = None
) -> list[Change]:
    """Move images into `domain` (an existing one); undone like any other edit."""
    with db.tx() as cur:
        if cur.execute("SELECT 1 FROM domains WHERE name = ?", [domain]).fetchone() is None:
            raise ReviewError(f"no domain named {domain!r}")
        changes = []
        for image_id in image_ids:
            old = _FIELDS[("images", "domain")].read(cur, image_id)
            if old != domain:
                changes.append(Change("images", image_id, "domain", old, domain))
        _apply(cur, changes, author or default_author())
    return changes


def save_caption(
    db: Database, image_id: int, text: str, author: str | None = None, lang: str | None = None
) -> list[Change]:
    """Store `text` as a new caption version and make it current; [] when it is unchanged."""
    text = (text or "").strip()
    if not text:
        raise ReviewError("the caption is empty; reject the image instead of clearing it")
    with db.tx() as cur:
        if cur.execute("SELECT 1 FROM images WHERE id = ?", [image_id]).fetchone() is None:
            raise ReviewError(f"image {image_id} does not exist")
        current = _read_caption(cur, image_id)
        if current is not None:
            old_text, old_lang = cur.execute(
                "SELECT text, lang FROM captions WHERE id = ?", [current]
            ).fetchone()
            if old_text == text:
                return []
            lang = lang or old_lang
        new_id = cur.execute(
            "INSERT INTO captions (image_id, version, text, lang, is_current, origin) "
            "SELECT ?, coalesce(max(version), 0) + 1, ?, ?, false, 'manual' "
            "FROM captions WHERE image_id = ? RETURNING id",
            [image_id, text, lang, image_id],
        ).fetchone()[0]
        changes = [Change("images", image_id, "caption", current, new_id)]
        _apply(cur, changes, author or default_author())
    return changes


def make_caption_current(
    db: Database, image_id: int, caption_id: int, author: str | None = None
) -> list[Change]:
    """Bring back an earlier caption version."""
    with db.tx() as cur:
        owner = cur.execute("SELECT image_id FROM captions WHERE id = ?", [caption_id]).fetchone()
        if owner is None or owner[0] != image_id:
            raise ReviewError(f"caption {caption_id} is not a version of image {image_id}")
        current = _read_caption(cur, image_id)
        if current == caption_id:
            return []
        changes = [Change("images", image_id, "caption", current, caption_id)]
        _apply(cur, changes, author or default_author())
    return changes


@dataclass(frozen=True)
class Revision:
    id: int
    tbl: str
    row_id: int
    field: str
    old: str | None
    new: str | None
    author: str | None
    created_at: datetime


def revisions_for(db: Database, table: str, row_id: int) -> list[Revision]:
    """The edit log of one row, oldest first."""
    rows = (
        db.cursor()
        .execute(
            "SELECT id, tbl, row_id, field, old, new, author, created_at FROM revisions "
            "WHERE tbl = ? AND row_id = ? ORDER BY id",
            [table, row_id],
        )
        .fetchall()
    )
    return [Revision(*r) for r in rows]
