"""Counts behind the GUI's stats view: what exists, what the checks flagged, what people fixed."""

from __future__ import annotations

from core.store.db import Database
from core.store.review import DECISIONS

_CONTENT_FIELDS = ("question", "options", "answer")


def review_stats(db: Database) -> dict:
    """{
    "instructions": [(domain, itype, status, n)],   # domain '' when the image has none
    "images": [(domain, status, n)],
    "flags": [(flag, n)],                            # most frequent first
    "disagreements": n,                              # verify stage answered differently
    "correction": [(domain, decided, corrected)],    # corrected = content edited by a person
    }"""
    cur = db.cursor()
    decided = ", ".join(f"'{s}'" for s in DECISIONS)
    fields = ", ".join(f"'{f}'" for f in _CONTENT_FIELDS)
    return {
        "instructions": cur.execute(
            "SELECT coalesce(i.domain, ''), n.itype, n.status, count(*) "
            "FROM instructions n JOIN images i ON i.id = n.image_id GROUP BY ALL ORDER BY ALL"
        ).fetchall(),
        "images": cur.execute(
            "SELECT coalesce(domain, ''), status, count(*) FROM images GROUP BY ALL ORDER BY ALL"
        ).fetchall(),
        "flags": cur.execute(
            "SELECT f, count(*) FROM (SELECT unnest(check_flags) AS f FROM instructions) "
            "GROUP BY f ORDER BY count(*) DESC, f"
        ).fetchall(),
        "disagreements": cur.execute(
            "SELECT count(*) FROM instructions WHERE verify_agree = false"
        ).fetchone()[0],
        "correction": cur.execute(
            f"""
            WITH edited AS (SELECT DISTINCT row_id FROM revisions
                            WHERE tbl = 'instructions' AND field IN ({fields}))
            SELECT coalesce(i.domain, ''), count(*), count(e.row_id)
            FROM instructions n JOIN images i ON i.id = n.image_id
            LEFT JOIN edited e ON e.row_id = n.id
            WHERE n.status IN ({decided})
            GROUP BY ALL ORDER BY ALL
            """
        ).fetchall(),
    }
