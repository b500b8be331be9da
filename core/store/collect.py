"""Typed queries for collected images: where each came from, its license, and the bookkeeping
that turns an import of temporary downloads back into URLs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyarrow as pa

from core.store.db import Database

COLLECTED_COLUMNS = (
    "image_id",
    "origin",
    "url",
    "landing_url",
    "title",
    "caption",
    "creator",
    "license",
    "license_code",
    "license_version",
    "license_url",
    "attribution",
    "provider",
    "source_id",
    "query",
    "seed_image_id",
    "score",
    "batch_id",
)
_ARROW = {
    "image_id": pa.int64(),
    "seed_image_id": pa.int64(),
    "score": pa.float32(),
    "batch_id": pa.int64(),
}


def known_urls(db: Database, urls: Sequence[str]) -> set[str]:
    """The subset of `urls` that an earlier collection already turned into an image."""
    if not urls:
        return set()
    table = pa.table({"url": pa.array(list(urls), pa.string())})
    cur = db.cursor()
    cur.register("_urls", table)
    try:
        rows = cur.execute(
            "SELECT DISTINCT u.url FROM _urls u JOIN collected c ON c.url = u.url "
            "JOIN images i ON i.id = c.image_id"
        ).fetchall()
    finally:
        cur.unregister("_urls")
    return {r[0] for r in rows}


def ids_by_sha(db: Database, shas: Iterable[str]) -> dict[str, int]:
    shas = list(set(shas))
    if not shas:
        return {}
    rows = db.fetchall("SELECT sha256, id FROM images WHERE sha256 IN (SELECT unnest(?))", [shas])
    return dict(rows)


def record_collected(db: Database, rows: list[dict]) -> None:
    """Add provenance rows (keys: COLLECTED_COLUMNS, missing ones NULL) and fill the images'
    own title / license / attribution / source_url where they are still empty."""
    if not rows:
        return
    table = pa.table(
        {
            c: pa.array([r.get(c) for r in rows], type=_ARROW.get(c, pa.string()))
            for c in COLLECTED_COLUMNS
        }
    )
    cols = ", ".join(COLLECTED_COLUMNS)
    with db.tx() as cur:
        cur.register("_collected", table)
        try:
            cur.execute(f"INSERT INTO collected ({cols}) SELECT {cols} FROM _collected")
            # First known value wins: a later source never overwrites what an image already has.
            cur.execute(
                """UPDATE images SET
                       title = coalesce(images.title, c.title),
                       license = coalesce(images.license, c.license),
                       attribution = coalesce(images.attribution, c.attribution),
                       source_url = coalesce(images.source_url, c.source_url)
                   FROM (SELECT image_id,
                                first(coalesce(title, caption)) AS title,
                                first(license) AS license,
                                first(attribution) AS attribution,
                                first(coalesce(landing_url, url)) AS source_url
                         FROM _collected GROUP BY image_id) c
                   WHERE images.id = c.image_id"""
            )
        finally:
            cur.unregister("_collected")


def relabel_batch(db: Database, batch_id: int, labels: dict[str, str]) -> None:
    """Replace temporary file paths recorded by an import batch with what the user knows them
    by (a URL, or `file.parquet#row=N`), in image_sources and rejected."""
    if not labels:
        return
    table = pa.table(
        {
            "old": pa.array(list(labels), pa.string()),
            "new": pa.array(list(labels.values()), pa.string()),
        }
    )
    with db.tx() as cur:
        cur.register("_labels", table)
        try:
            for tbl in ("image_sources", "rejected"):
                cur.execute(
                    f"UPDATE {tbl} SET path = l.new FROM _labels l "
                    f"WHERE {tbl}.batch_id = ? AND {tbl}.path = l.old",
                    [batch_id],
                )
        finally:
            cur.unregister("_labels")


def add_rejections(db: Database, batch_id: int, rows: Sequence[tuple[str, str, str]]) -> None:
    """Record (url, reason, detail) of downloads that never reached the importer."""
    if not rows:
        return
    with db.tx() as cur:
        cur.executemany(
            "INSERT INTO rejected (batch_id, path, reason, detail) VALUES (?, ?, ?, ?)",
            [[batch_id, *r] for r in rows],
        )


def collected_for_image(db: Database, image_id: int) -> list[dict]:
    cur = db.cursor()
    cols = ", ".join((*COLLECTED_COLUMNS, "collected_at"))
    rows = cur.execute(
        f"SELECT {cols} FROM collected WHERE image_id = ? ORDER BY collected_at", [image_id]
    ).fetchall()
    names = (*COLLECTED_COLUMNS, "collected_at")
    return [dict(zip(names, r, strict=True)) for r in rows]


def license_summary(db: Database, domain: str | None = None) -> dict[str, int]:
    """Images per license (`unknown` when none is recorded), most common first."""
    where, params = ("WHERE domain = ?", [domain]) if domain else ("", [])
    rows = db.fetchall(
        "SELECT coalesce(nullif(trim(license), ''), 'unknown') AS lic, count(*) AS n "
        f"FROM images {where} GROUP BY lic ORDER BY n DESC, lic",
        params,
    )
    return dict(rows)


def image_files(db: Database, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """image id -> (storage, path) for the ids that exist."""
    if not ids:
        return {}
    rows = db.fetchall(
        "SELECT id, storage, path FROM images WHERE id IN (SELECT unnest(?))", [list(ids)]
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def domain_image_ids(db: Database, domain: str, status: str | None = None) -> list[int]:
    sql = "SELECT id FROM images WHERE domain = ?"
    params: list = [domain]
    if status:
        sql += " AND status = ?"
        params.append(status)
    return [r[0] for r in db.fetchall(sql + " ORDER BY id", params)]


def image_summaries(db: Database, ids: Sequence[int]) -> dict[int, dict]:
    """What a search hit shows: domain, status, title, file."""
    if not ids:
        return {}
    rows = db.fetchall(
        "SELECT id, domain, status, title, storage, path FROM images "
        "WHERE id IN (SELECT unnest(?))",
        [list(ids)],
    )
    keys = ("id", "domain", "status", "title", "storage", "path")
    return {r[0]: dict(zip(keys, r, strict=True)) for r in rows}
