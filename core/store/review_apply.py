"""How changes reach the tables: each editable field's read, write and log description, and
the two batched paths that write a run of 64+ changes as a few statements.

A change is checked (its old value must still be current), written and logged in `revisions`
the same way whether it goes one at a time or in a batch; that machinery is separate from the
edit functions (core.store.review), which only decide which changes an edit makes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from core.store.review_change import Change, EditConflict, ReviewError
from core.store.temp_tables import SLICE_ROWS, fill_temp

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


def apply(cur: Cursor, changes: Iterable[Change], author: str) -> None:
    """Check, write and log `changes` inside the caller's transaction, in order."""
    for run in _runs(list(changes)):
        if _batchable(run):
            _apply_batch(cur, run[0].table, run[0].field, run, author)
        elif _caption_run(run):
            _apply_caption_batch(cur, run, author)
        else:
            _apply_each(cur, run, author)


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


def read_field(cur: Cursor, table: str, field: str, row_id: int) -> Any:
    """The current value of one editable field (for images.caption: its current captions.id)."""
    return _FIELDS[(table, field)].read(cur, row_id)
