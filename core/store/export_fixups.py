"""Queries that adjust an export's selection (`export_sel`, `export_imgs`, built by
core/store/exports.py) before any format writes a record: texts made safe
(core/export/textguard.py) and image files renamed after normalization (core/export/normalize.py).
"""

from __future__ import annotations

import duckdb

from core.store.export_records import rows_sql


def unsafe_rows(cur: duckdb.DuckDBPyConnection, pattern: str) -> list[tuple]:
    """(nid, rec_id, image_id, q, answer) of the selected rows whose text (the question as
    exported, or the answer) matches `pattern`."""
    # Candidates first, from the stored pieces of the text: a match in the exported question
    # lies within its question, one option or its suffix (no token spans a line break), so
    # only the few candidates are joined, rendered and matched again.
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE export_cand AS
           SELECT n.id AS nid FROM instructions n
           WHERE regexp_matches(n.question, $1) OR regexp_matches(n.answer, $1)
              OR regexp_matches(coalesce(array_to_string(n.options, chr(10)), ''), $1)
           UNION
           SELECT nid FROM export_sel
           WHERE pick IN (SELECT id FROM export_suffixes WHERE regexp_matches(text, $1))
           UNION
           SELECT nid FROM export_picked WHERE regexp_matches(picked, $1)""",
        [pattern],
    )
    try:
        return cur.execute(
            f"""SELECT nid, rec_id, image_id, q, answer
                FROM ({rows_sql("s.nid IN (SELECT nid FROM export_cand)")}) r
                WHERE regexp_matches(q, $1) OR regexp_matches(answer, $1) ORDER BY nid""",
            [pattern],
        ).fetchall()
    finally:
        cur.execute("DROP TABLE IF EXISTS export_cand")


def replace_texts(cur: duckdb.DuckDBPyConnection, table) -> None:
    """`table`: arrow (nid, q, answer) of new texts (the records are written with them)."""
    cur.register("export_escaped", table)
    try:
        cur.execute("INSERT INTO export_text SELECT nid, q, answer FROM export_escaped")
    finally:
        cur.unregister("export_escaped")


def drop_records(cur: duckdb.DuckDBPyConnection, table) -> None:
    """`table`: arrow (rec_id, image_id) of records to leave out; images left with nothing
    selected leave too."""
    cur.register("export_skipped", table)
    try:
        cur.execute(
            """DELETE FROM export_sel WHERE EXISTS (
                   SELECT 1 FROM export_skipped k JOIN export_imgs m ON m.image_id = k.image_id
                   WHERE m.ord = export_sel.ord AND k.rec_id = substr(m.sha256, 1, 16) || '-' || export_sel.rec_no)"""
        )
    finally:
        cur.unregister("export_skipped")
    cur.execute("DELETE FROM export_imgs WHERE ord NOT IN (SELECT DISTINCT ord FROM export_sel)")


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
    finally:
        cur.unregister("export_exts")
