"""Typed queries of `mmstudio captions import` (core/export/captions.py): what identifies an
image, and the one transaction that adds every imported caption as a new version."""

from __future__ import annotations

import duckdb


def image_keys(cur: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    """(id, sha256, path) of every image not rejected, and (image_id, path) of every source
    path it was imported from."""
    images = cur.execute(
        "SELECT id, sha256, path FROM images WHERE status <> 'rejected' ORDER BY id"
    ).fetchall()
    sources = cur.execute(
        "SELECT s.image_id, s.path FROM image_sources s JOIN images i ON i.id = s.image_id "
        "WHERE i.status <> 'rejected' ORDER BY s.image_id"
    ).fetchall()
    return images, sources


def add_captions(cur: duckdb.DuckDBPyConnection, table) -> None:
    """`table`: arrow (image_id, text, lang, model, source, seq) in file order. Each row
    becomes the next version of its image's captions and the current one in its language;
    earlier captions stay as they are, only no longer current. The caller holds the
    transaction, so a failure leaves nothing behind."""
    cur.register("caption_rows", table)
    try:
        cur.execute(
            """UPDATE captions SET is_current = false
               WHERE is_current AND (image_id, lang) IN (SELECT image_id, lang FROM caption_rows)"""
        )
        cur.execute(
            """INSERT INTO captions (image_id, version, text, lang, model, is_current, origin, source)
               WITH numbered AS (
                   SELECT r.*, row_number() OVER (PARTITION BY image_id ORDER BY seq) AS k,
                          row_number() OVER (PARTITION BY image_id, lang ORDER BY seq DESC) AS last
                   FROM caption_rows r
               )
               SELECT n.image_id, coalesce(v.top, 0) + n.k, n.text, n.lang, n.model, n.last = 1,
                      'imported', n.source
               FROM numbered n
               LEFT JOIN (SELECT image_id, max(version) AS top FROM captions GROUP BY 1) v
                      ON v.image_id = n.image_id
               ORDER BY n.seq"""
        )
    finally:
        cur.unregister("caption_rows")
