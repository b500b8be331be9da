"""Typed queries the demo set-up needs: per-image provenance and a set-up marker in meta."""

from __future__ import annotations

from core.store.db import Database

DEMO_MARKER_KEY = "demo_manifest"


def set_image_provenance(
    db: Database,
    sha256: str,
    *,
    title: str | None = None,
    license: str | None = None,
    attribution: str | None = None,
    source_url: str | None = None,
) -> int:
    """Record where an image came from and under what terms. Returns the rows changed (0 when
    no image has that content hash)."""
    with db.tx() as cur:
        return cur.execute(
            "UPDATE images SET title = ?, license = ?, attribution = ?, source_url = ? "
            "WHERE sha256 = ?",
            [title, license, attribution, source_url, sha256],
        ).fetchone()[0]


def image_provenance(db: Database, sha256: str) -> dict | None:
    row = db.fetchone(
        "SELECT domain, title, license, attribution, source_url FROM images WHERE sha256 = ?",
        [sha256],
    )
    if row is None:
        return None
    keys = ("domain", "title", "license", "attribution", "source_url")
    return dict(zip(keys, row, strict=True))


def demo_marker(db: Database) -> str | None:
    return db.scalar("SELECT value FROM meta WHERE key = ?", [DEMO_MARKER_KEY])


def set_demo_marker(db: Database, value: str) -> None:
    with db.tx() as cur:
        cur.execute("DELETE FROM meta WHERE key = ?", [DEMO_MARKER_KEY])
        cur.execute("INSERT INTO meta VALUES (?, ?)", [DEMO_MARKER_KEY, value])
