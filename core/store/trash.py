"""The trash: deleted images and every row that names them, kept until the trash is emptied.

A delete moves the image rows, and the rows of every table with an `image_id` column
(instructions, captions, OCR, sources, CLIP vectors and groups, collect provenance...), into
`trash_<table>` copies tagged with the delete's `trash.id`, in one transaction. Which tables
those are is read from the catalogue at delete time, so a table a later migration adds is
covered without a change here; a copy gains the columns its live table gained. Restoring puts
the rows back with their ids (sequences never reuse one), so undo is exact; the revision log
is never moved. Media files stay on disk until the trash is emptied (core.trash).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from core.errors import StudioError
from core.store.bulk import Selection, selected
from core.store.db import Database

PREFIX = "trash_"


class TrashError(StudioError):
    pass


@dataclass(frozen=True)
class TrashBatch:
    id: int
    reason: str | None
    author: str | None
    n_images: int
    counts: dict
    created_at: datetime | None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "reason": self.reason,
            "author": self.author,
            "images": self.n_images,
            "rows": self.counts,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def _columns(cur, table: str) -> list[tuple[str, str]]:
    return cur.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()


def _live_tables(cur) -> list[str]:
    """`images` first, then every permanent table naming images by `image_id`."""
    rows = cur.execute(
        "SELECT DISTINCT c.table_name FROM duckdb_columns() c JOIN duckdb_tables() t "
        "USING (database_name, schema_name, table_name) WHERE c.database_name = "
        "current_database() AND c.schema_name = 'main' AND NOT t.temporary "
        "AND c.column_name = 'image_id' AND NOT starts_with(c.table_name, ?) ORDER BY 1",
        [PREFIX],
    ).fetchall()
    return ["images", *(r[0] for r in rows)]


def _trash_tables(cur) -> list[str]:
    """The live names of the tables that have a trash copy."""
    rows = cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT temporary AND starts_with(table_name, ?) ORDER BY 1",
        [PREFIX],
    ).fetchall()
    return [r[0][len(PREFIX) :] for r in rows]


def _ensure_copy(cur, table: str) -> list[str]:
    """Create or widen trash_<table>; returns the live columns (all of them are in the copy)."""
    live = _columns(cur, table)
    copy = PREFIX + table
    have = {name for name, _type in _columns(cur, copy)}
    if not have:
        cur.execute(
            f"CREATE TABLE {copy} AS SELECT NULL::BIGINT AS trash_id, * FROM {table} LIMIT 0"
        )
    else:
        for name, dtype in live:
            if name not in have:
                cur.execute(f'ALTER TABLE {copy} ADD COLUMN "{name}" {dtype}')
    return [name for name, _type in live]


def _quoted(cols: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in cols)


def move_to_trash(
    db: Database, selection: Selection, reason: str = "delete", author: str | None = None
) -> TrashBatch:
    """Move the selected images and their rows into the trash; one transaction."""
    with db.tx() as cur, selected(cur, selection) as sel:
        n = cur.execute(f"SELECT count(*) FROM images WHERE id IN (SELECT id FROM {sel})")
        if n.fetchall()[0][0] == 0:
            raise TrashError("no image to delete: the selection is empty")
        trash_id = cur.execute(
            "INSERT INTO trash (reason, author, n_images) VALUES (?, ?, 0) RETURNING id",
            [reason, author],
        ).fetchall()[0][0]
        counts = {}
        for table in _live_tables(cur):
            key = "id" if table == "images" else "image_id"
            cols = _quoted(_ensure_copy(cur, table))
            where = f"WHERE {key} IN (SELECT id FROM {sel})"
            moved = cur.execute(
                f"INSERT INTO {PREFIX}{table} (trash_id, {cols}) SELECT ?, {cols} FROM {table} "
                + where,
                [trash_id],
            ).fetchall()[0][0]
            if moved:
                cur.execute(f"DELETE FROM {table} {where}")
                counts[table] = moved
        cur.execute(
            "UPDATE trash SET n_images = ?, counts = ? WHERE id = ?",
            [counts["images"], json.dumps(counts), trash_id],
        )
    return get_batch(db, trash_id)


def get_batch(db: Database, trash_id: int) -> TrashBatch:
    row = db.fetchone(
        "SELECT id, reason, author, n_images, counts, created_at FROM trash WHERE id = ?",
        [trash_id],
    )
    if row is None:
        raise TrashError(f"nothing in the trash has id {trash_id}; see `mmstudio trash list`")
    return TrashBatch(*row[:4], json.loads(row[4] or "{}"), row[5])


def list_trash(db: Database) -> list[TrashBatch]:
    """Every delete still in the trash, newest first."""
    rows = db.fetchall(
        "SELECT id, reason, author, n_images, counts, created_at FROM trash ORDER BY id DESC"
    )
    return [TrashBatch(*r[:4], json.loads(r[4] or "{}"), r[5]) for r in rows]


def trashed_image_ids(db: Database, trash_id: int) -> list[int]:
    get_batch(db, trash_id)
    if "images" not in _trash_tables(db.cursor()):
        return []
    rows = db.fetchall(f"SELECT id FROM {PREFIX}images WHERE trash_id = ? ORDER BY id", [trash_id])
    return [r[0] for r in rows]


def restore(db: Database, trash_id: int) -> TrashBatch:
    """Put a delete's rows back, all or nothing. Refused when one of its images was imported
    again since (the same file is in the library under a new id)."""
    with db.tx() as cur:
        batch = get_batch(db, trash_id)
        clash = cur.execute(
            f"SELECT count(*) FROM {PREFIX}images t JOIN images i "
            "ON i.sha256 = t.sha256 OR i.id = t.id WHERE t.trash_id = ?",
            [trash_id],
        ).fetchall()[0][0]
        if clash:
            raise TrashError(
                f"{clash} image(s) of delete {trash_id} are in the library again (imported "
                "since); delete those first, then restore"
            )
        live = set(_live_tables(cur))
        for table in _trash_tables(cur):
            if table in live:
                have = {name for name, _type in _columns(cur, table)}
                cols = _quoted(
                    [n for n, _t in _columns(cur, PREFIX + table) if n != "trash_id" and n in have]
                )
                cur.execute(
                    f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {PREFIX}{table} "
                    "WHERE trash_id = ?",
                    [trash_id],
                )
            cur.execute(f"DELETE FROM {PREFIX}{table} WHERE trash_id = ?", [trash_id])
        cur.execute("DELETE FROM trash WHERE id = ?", [trash_id])
    return batch


@dataclass(frozen=True)
class PurgedFile:
    storage: str  # copy | reference
    path: str
    thumb: str | None


def purge(db: Database, trash_ids: list[int] | None = None) -> list[PurgedFile]:
    """Drop deletes from the trash for good (all of them when `trash_ids` is None). Returns
    the files of their images that no live or still-trashed image shares (same sha256)."""
    with db.tx() as cur:
        ids = [b.id for b in list_trash(db)] if trash_ids is None else list(trash_ids)
        for trash_id in ids:
            get_batch(db, trash_id)
        tables = _trash_tables(cur)
        files: list[PurgedFile] = []
        if ids and "images" in tables:
            rows = cur.execute(
                f"SELECT DISTINCT t.storage, t.path, t.thumb FROM {PREFIX}images t "
                "WHERE list_contains($1::BIGINT[], t.trash_id) "
                "AND NOT EXISTS (SELECT 1 FROM images i WHERE i.sha256 = t.sha256) "
                f"AND NOT EXISTS (SELECT 1 FROM {PREFIX}images o WHERE o.sha256 = t.sha256 "
                "AND NOT list_contains($1::BIGINT[], o.trash_id))",
                [ids],
            ).fetchall()
            files = [PurgedFile(*r) for r in rows]
        for table in tables:
            cur.execute(
                f"DELETE FROM {PREFIX}{table} WHERE list_contains(?::BIGINT[], trash_id)", [ids]
            )
        cur.execute("DELETE FROM trash WHERE list_contains(?::BIGINT[], id)", [ids])
    return files
