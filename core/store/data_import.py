"""Typed queries of `mmstudio import-data` (core/export/importer.py): instructions inserted
column-wise in batches, domain and license filled on the images the library importer added."""

from __future__ import annotations

import duckdb

IMPORT_COLUMNS = (
    "id",
    "image_id",
    "itype",
    "lang",
    "question",
    "options",
    "answer",
    "origin",
    "status",
    "conversation_id",
    "round",
)


def image_ids_by_sha(cur: duckdb.DuckDBPyConnection, shas: list[str]) -> dict[str, int]:
    rows = cur.execute(
        "SELECT sha256, id FROM images WHERE list_contains(?, sha256)", [shas]
    ).fetchall()
    return dict(rows)


def fill_image_fields(
    cur: duckdb.DuckDBPyConnection, rows: list[tuple[int, str | None, str | None]]
) -> None:
    """Set domain and license from (image_id, domain, license) where the image has none yet."""
    import pyarrow as pa

    if not rows:
        return
    table = pa.table(
        {
            "image_id": pa.array([r[0] for r in rows], pa.int64()),
            "domain": pa.array([r[1] for r in rows], pa.string()),
            "license": pa.array([r[2] for r in rows], pa.string()),
        }
    )
    cur.register("_fill_images", table)
    try:
        cur.execute(
            """UPDATE images SET domain = coalesce(images.domain, f.domain),
                                 license = coalesce(images.license, f.license)
               FROM _fill_images f WHERE images.id = f.image_id"""
        )
    finally:
        cur.unregister("_fill_images")


def allocate_instruction_ids(cur: duckdb.DuckDBPyConnection, n: int) -> list[int]:
    rows = cur.execute("SELECT nextval('instructions_id') FROM range(?)", [n]).fetchall()
    return sorted(r[0] for r in rows)


def insert_instructions(cur: duckdb.DuckDBPyConnection, columns: dict[str, list]) -> None:
    """Insert rows given column-wise (keys: IMPORT_COLUMNS) in one statement."""
    import pyarrow as pa

    types = {
        "id": pa.int64(),
        "image_id": pa.int64(),
        "options": pa.list_(pa.string()),
        "conversation_id": pa.int64(),
        "round": pa.int32(),
    }
    table = pa.table({c: pa.array(columns[c], types.get(c, pa.string())) for c in IMPORT_COLUMNS})
    cur.register("_import_instructions", table)
    try:
        cols = ", ".join(IMPORT_COLUMNS)
        cur.execute(f"INSERT INTO instructions ({cols}) SELECT {cols} FROM _import_instructions")
    finally:
        cur.unregister("_import_instructions")
