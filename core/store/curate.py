"""Typed queries behind curation and balance: duplicate groups by perceptual hash, what a
tile shows of an image, groups kept whole, and per-domain counts of images, captions and
instructions by type."""

from __future__ import annotations

from collections.abc import Sequence

from core.store.db import Database
from core.store.meta import read_meta, write_meta  # noqa: F401  (kept here for core.collect)

CARD_KEYS = ("id", "domain", "status", "title", "storage", "path", "width", "height", "bytes",
             "license", "attribution")  # fmt: skip


def image_cards(db: Database, ids: Sequence[int]) -> dict[int, dict]:
    """image id -> what a curation tile shows (file, size, status, license)."""
    if not ids:
        return {}
    rows = db.fetchall(
        f"SELECT {', '.join(CARD_KEYS)} FROM images WHERE id IN (SELECT unnest(?))",
        [list(ids)],
    )
    return {r[0]: dict(zip(CARD_KEYS, r, strict=True)) for r in rows}


def phash_groups(db: Database, domain: str | None = None) -> dict[int, list[int]]:
    """group id -> member ids of the perceptual-hash groups the importer found."""
    sql = "SELECT near_dup_group, id FROM images WHERE near_dup_group IS NOT NULL"
    params: list = []
    if domain is not None:
        sql += " AND domain = ?"
        params.append(domain)
    out: dict[int, list[int]] = {}
    for group, image_id in db.fetchall(sql + " ORDER BY near_dup_group, id", params):
        out.setdefault(group, []).append(image_id)
    return out


def kept_groups(db: Database, kind: str) -> set[str]:
    return {r[0] for r in db.fetchall("SELECT members FROM curate_kept_groups WHERE kind = ?",
                                      [kind])}  # fmt: skip


def keep_group(db: Database, kind: str, members: str) -> None:
    with db.tx() as cur:
        cur.execute(
            "INSERT OR REPLACE INTO curate_kept_groups (kind, members) VALUES (?, ?)",
            [kind, members],
        )


def forget_kept_group(db: Database, kind: str, members: str) -> None:
    with db.tx() as cur:
        cur.execute(
            "DELETE FROM curate_kept_groups WHERE kind = ? AND members = ?", [kind, members]
        )


def balance_counts(db: Database) -> dict[str, dict]:
    """domain -> {"images", "captions", "instructions": {itype: n}} over the images not
    rejected (and their instructions not rejected); every domain appears, empty ones too."""
    out: dict[str, dict] = {
        name: {"images": 0, "captions": 0, "instructions": {}}
        for (name,) in db.fetchall("SELECT name FROM domains ORDER BY position, name")
    }
    for domain, images, captions in db.fetchall(
        "SELECT i.domain, count(*), count(c.image_id) FROM images i "
        "LEFT JOIN (SELECT DISTINCT image_id FROM captions WHERE is_current) c "
        "ON c.image_id = i.id WHERE i.status <> 'rejected' AND i.domain IS NOT NULL "
        "GROUP BY i.domain"
    ):
        entry = out.setdefault(domain, {"images": 0, "captions": 0, "instructions": {}})
        entry["images"], entry["captions"] = images, captions
    for domain, itype, n in db.fetchall(
        "SELECT i.domain, n.itype, count(*) FROM instructions n JOIN images i "
        "ON i.id = n.image_id WHERE i.status <> 'rejected' AND n.status <> 'rejected' "
        "AND i.domain IS NOT NULL GROUP BY i.domain, n.itype"
    ):
        entry = out.setdefault(domain, {"images": 0, "captions": 0, "instructions": {}})
        entry["instructions"][itype] = n
    return out


def clip_similarities(db: Database, model_id: int) -> dict[int, float]:
    """image id -> similarity to its group, from the last embedding grouping of a model."""
    return dict(
        db.fetchall("SELECT image_id, similarity FROM clip_groups WHERE model_id = ?", [model_id])
    )
