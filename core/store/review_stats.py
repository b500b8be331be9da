"""Counts behind the GUI's stats view: what exists, what the checks flagged, what people fixed,
and what the model calls cost over time."""

from __future__ import annotations

from datetime import timedelta

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
    "cost": {...},                                   # cost_over_time(db)
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
        "cost": cost_over_time(db),
    }


# Below this span the spend is shown per hour: a day's work would be one point per day.
HOURLY_SPAN = timedelta(hours=48)


def cost_over_time(db: Database) -> dict:
    """Model spend from the request log, bucketed by hour (every call within HOURLY_SPAN) or
    by day: {"unit": "hour" | "day", "points": [(bucket start, cost in it, cumulative)],
    "total": USD, "requests": calls}. Buckets without calls are left out; the request's start
    time counts, and calls with no known cost (none recorded) are left out."""
    cur = db.cursor()
    first, last, calls = cur.execute(
        "SELECT min(started_at), max(started_at), count(*) FROM requests "
        "WHERE cost_usd IS NOT NULL AND started_at IS NOT NULL"
    ).fetchone()
    if not calls:
        return {"unit": "day", "points": [], "total": 0.0, "requests": 0}
    unit = "hour" if last - first < HOURLY_SPAN else "day"
    points = cur.execute(
        f"""
        SELECT date_trunc('{unit}', started_at) AS bucket, sum(cost_usd),
               sum(sum(cost_usd)) OVER (ORDER BY date_trunc('{unit}', started_at))
        FROM requests WHERE cost_usd IS NOT NULL AND started_at IS NOT NULL
        GROUP BY bucket ORDER BY bucket
        """
    ).fetchall()
    return {
        "unit": unit,
        "points": [(b, float(c), float(total)) for b, c, total in points],
        "total": float(points[-1][2]),
        "requests": calls,
    }
