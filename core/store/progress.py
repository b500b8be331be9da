"""How far a project has come along the data engine: the counts the start page's "what to do
next" is derived from (core.next_steps). One pass per table, cheap at a million rows."""

from __future__ import annotations

from core.store.db import Database


def progress_counts(db: Database) -> dict[str, int]:
    images, captioned, bare = db.fetchall(
        "WITH c AS (SELECT DISTINCT image_id FROM captions WHERE is_current), "
        "n AS (SELECT DISTINCT image_id FROM instructions) "
        "SELECT count(*), count(c.image_id), count(c.image_id) FILTER (WHERE n.image_id IS NULL) "
        "FROM images i LEFT JOIN c ON c.image_id = i.id LEFT JOIN n ON n.image_id = i.id"
    )[0]
    by_status = dict(db.fetchall("SELECT status, count(*) FROM instructions GROUP BY status"))
    return {
        "images": int(images),
        "captioned_images": int(captioned),
        "captioned_without_instructions": int(bare),
        "instructions": int(sum(by_status.values())),
        "unchecked": int(by_status.get("new", 0)),
        "to_review": int(by_status.get("ok", 0) + by_status.get("needs_review", 0)),
        "accepted": int(by_status.get("accepted", 0)),
    }
