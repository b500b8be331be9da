"""Typed queries for the image library: import batches, images, their sources, rejections."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from core.store.db import Database

# Columns an import writes, in this order; see migrations 001 and 002.
IMAGE_COLUMNS = (
    "id",
    "sha256",
    "phash",
    "width",
    "height",
    "format",
    "mode",
    "n_frames",
    "bytes",
    "exif_orientation",
    "domain",
    "storage",
    "path",
    "thumb",
    "near_dup_group",
    "batch_id",
)
# DuckDB types of the columns an import writes: the rows go in as one list per column,
# unnested in a single INSERT. Not through pyarrow: pa.array() imports pandas on first use,
# about a second of the importing process's CPU, more than the inserts themselves.
_SQL_TYPES = {
    "id": "BIGINT",
    "phash": "UBIGINT",
    "width": "INTEGER",
    "height": "INTEGER",
    "n_frames": "INTEGER",
    "bytes": "BIGINT",
    "exif_orientation": "INTEGER",
    "near_dup_group": "BIGINT",
    "batch_id": "BIGINT",
}
_INSERT_IMAGES = f"INSERT INTO images ({', '.join(IMAGE_COLUMNS)}) SELECT " + ", ".join(
    f"unnest(?::{_SQL_TYPES.get(c, 'VARCHAR')}[])" for c in IMAGE_COLUMNS
)


@dataclass
class ImportChunk:
    """Everything one transaction of an import writes."""

    images: list[dict]  # keys: IMAGE_COLUMNS
    sources: list[tuple[int, str]]  # (image_id, path)
    rejected: list[tuple[str, str, str]]  # (path, reason, detail)
    group_roots: list[int]  # earlier images that now head a near-duplicate group
    domain_fill: list[int]  # existing images without a domain that get the batch's domain

    def __len__(self) -> int:
        return len(self.images) + len(self.sources) + len(self.rejected)


def ensure_domain(db: Database, name: str) -> bool:
    """Create domain `name` (title = name) unless it exists. True when it was created."""
    with db.tx() as cur:
        if cur.execute("SELECT 1 FROM domains WHERE name = ?", [name]).fetchone():
            return False
        cur.execute(
            "INSERT INTO domains (name, title, position) "
            "SELECT ?, ?, coalesce(max(position), 0) + 1 FROM domains",
            [name, name],
        )
    return True


def start_batch(db: Database, domain: str | None, options: dict) -> int:
    with db.tx() as cur:
        return cur.execute(
            "INSERT INTO import_batches (domain, options) VALUES (?, ?) RETURNING id",
            [domain, json.dumps(options, default=str)],
        ).fetchone()[0]


def finish_batch(db: Database, batch_id: int, counts: dict) -> None:
    with db.tx() as cur:
        cur.execute(
            "UPDATE import_batches SET counts = ?, finished_at = current_timestamp WHERE id = ?",
            [json.dumps(counts), batch_id],
        )


def batch(db: Database, batch_id: int) -> dict | None:
    row = db.fetchone(
        "SELECT id, domain, options, counts, started_at, finished_at FROM import_batches "
        "WHERE id = ?",
        [batch_id],
    )
    if row is None:
        return None
    keys = ("id", "domain", "options", "counts", "started_at", "finished_at")
    out = dict(zip(keys, row, strict=True))
    for k in ("options", "counts"):
        out[k] = json.loads(out[k]) if out[k] else None
    return out


def known_sha_prefixes(db: Database) -> np.ndarray:
    """Sorted first 64 bits of every stored sha256: a compact "seen before?" filter."""
    rows = db.fetchall("SELECT sha256 FROM images")
    arr = np.fromiter((int(r[0][:16], 16) for r in rows), dtype=np.uint64, count=len(rows))
    arr.sort()
    return arr


def image_id_by_sha(db: Database, sha256: str) -> int | None:
    return db.scalar("SELECT id FROM images WHERE sha256 = ?", [sha256])


def phash_table(db: Database) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, phashes, groups with -1 for none) of every hashed image, oldest first."""
    got = (
        db.cursor()
        .execute(
            "SELECT id, phash, coalesce(near_dup_group, -1) AS grp FROM images "
            "WHERE phash IS NOT NULL ORDER BY id"
        )
        .fetchnumpy()
    )
    return (
        np.asarray(got["id"], dtype=np.int64),
        np.asarray(got["phash"], dtype=np.uint64),
        np.asarray(got["grp"], dtype=np.int64),
    )


def allocate_image_ids(db: Database, n: int) -> list[int]:
    return [r[0] for r in db.fetchall("SELECT nextval('images_id') FROM range(?)", [n])]


def write_import_chunk(db: Database, batch_id: int, domain: str | None, chunk: ImportChunk):
    """One transaction: new images, their sources, rejections and group changes, or nothing."""
    with db.tx() as cur:
        if chunk.images:
            cur.execute(_INSERT_IMAGES, [[row[c] for row in chunk.images] for c in IMAGE_COLUMNS])
        if chunk.group_roots:
            cur.execute(
                "UPDATE images SET near_dup_group = id "
                "WHERE list_contains(?, id) AND near_dup_group IS NULL",
                [chunk.group_roots],
            )
        if chunk.domain_fill and domain:
            cur.execute(
                "UPDATE images SET domain = ? WHERE list_contains(?, id) AND domain IS NULL",
                [domain, chunk.domain_fill],
            )
        if chunk.sources:
            # A path seen again for the same image adds nothing: re-imports stay idempotent.
            cur.execute(
                "INSERT INTO image_sources (image_id, path, batch_id) "
                "SELECT s.image_id, s.path, ? FROM "
                "(SELECT unnest(?::BIGINT[]) AS image_id, unnest(?::VARCHAR[]) AS path) s "
                "WHERE NOT EXISTS (SELECT 1 FROM image_sources e "
                "WHERE e.image_id = s.image_id AND e.path = s.path)",
                [batch_id, [s[0] for s in chunk.sources], [s[1] for s in chunk.sources]],
            )
        if chunk.rejected:
            cur.executemany(
                "INSERT INTO rejected (batch_id, path, reason, detail) VALUES (?, ?, ?, ?)",
                [[batch_id, p, r, d] for p, r, d in chunk.rejected],
            )


def sources_of(db: Database, image_id: int) -> list[str]:
    return [
        r[0]
        for r in db.fetchall(
            "SELECT path FROM image_sources WHERE image_id = ? ORDER BY path", [image_id]
        )
    ]


def rejected_in_batch(db: Database, batch_id: int) -> list[tuple[str, str, str]]:
    return db.fetchall(
        "SELECT path, reason, detail FROM rejected WHERE batch_id = ? ORDER BY id", [batch_id]
    )
