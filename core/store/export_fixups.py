"""Queries that adjust an export's selection (`export_sel`, `export_imgs`, built by
core/store/exports.py) before any format writes a record: texts made safe
(core/export/textguard.py) and image files renamed after normalization (core/export/normalize.py).
"""

from __future__ import annotations

import duckdb


def unsafe_rows(cur: duckdb.DuckDBPyConnection, pattern: str) -> list[tuple]:
    """(nid, rec_id, image_id, q, answer) of the selected rows whose text matches `pattern`."""
    return cur.execute(
        """SELECT nid, rec_id, image_id, q, answer FROM export_sel
           WHERE regexp_matches(q, ?) OR regexp_matches(answer, ?) ORDER BY nid""",
        [pattern, pattern],
    ).fetchall()


def replace_texts(cur: duckdb.DuckDBPyConnection, table) -> None:
    """`table`: arrow (nid, q, answer) of new texts."""
    cur.register("export_escaped", table)
    try:
        cur.execute(
            """UPDATE export_sel SET q = e.q, answer = e.answer
               FROM export_escaped e WHERE export_sel.nid = e.nid"""
        )
    finally:
        cur.unregister("export_escaped")


def drop_records(cur: duckdb.DuckDBPyConnection, table) -> None:
    """`table`: arrow (rec_id, image_id) of records to leave out; images left with nothing
    selected leave too."""
    cur.register("export_skipped", table)
    try:
        cur.execute(
            """DELETE FROM export_sel WHERE EXISTS (SELECT 1 FROM export_skipped k
               WHERE k.rec_id = export_sel.rec_id AND k.image_id = export_sel.image_id)"""
        )
    finally:
        cur.unregister("export_skipped")
    cur.execute(
        "DELETE FROM export_imgs WHERE image_id NOT IN (SELECT DISTINCT image_id FROM export_sel)"
    )


def images_to_inspect(cur: duckdb.DuckDBPyConnection, max_side: int | None) -> list[tuple]:
    """(sha256, ext, storage, path) of the selected images that may need normalizing: what the
    library recorded on import rules out plain, upright, static 8-bit RGB or grayscale."""
    big = "OR greatest(i.width, i.height) > ? OR i.width IS NULL" if max_side else ""
    return cur.execute(
        f"""SELECT e.sha256, e.ext, e.storage, e.path FROM export_imgs e JOIN images i ON i.id = e.image_id
            WHERE i.mode IS NULL OR i.mode NOT IN ('RGB', 'L') OR coalesce(i.n_frames, 1) > 1
               OR coalesce(i.exif_orientation, 1) <> 1 {big}
            ORDER BY e.sha256""",
        [max_side] if max_side else [],
    ).fetchall()


def set_image_exts(cur: duckdb.DuckDBPyConnection, table) -> None:
    """`table`: arrow (sha256, ext) of images whose exported file gets another extension."""
    cur.register("export_exts", table)
    try:
        cur.execute(
            "UPDATE export_imgs SET ext = x.ext FROM export_exts x WHERE export_imgs.sha256 = x.sha256"
        )
        cur.execute(
            """UPDATE export_sel SET ext = x.ext,
                      img = substr(x.sha256, 1, 2) || '/' || x.sha256 || '.' || x.ext
               FROM export_exts x WHERE export_sel.sha256 = x.sha256"""
        )
    finally:
        cur.unregister("export_exts")
