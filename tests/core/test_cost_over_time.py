"""Cost over time for the stats view: the request log summed per hour or per day."""

from __future__ import annotations

from datetime import UTC, datetime

from core.store.jobs import RequestRow, log_requests
from core.store.review_stats import cost_over_time, review_stats


def _log(db, calls: list[tuple[datetime, float | None]]) -> None:
    rows = [
        RequestRow(
            None,
            f"k{n}",
            1,
            "lb",
            "gpt-4o-mini",
            None,
            at.timestamp(),
            120.0,
            100,
            20,
            1,
            cost,
            "ok",
        )  # fmt: skip
        for n, (at, cost) in enumerate(calls)
    ]
    with db.tx() as cur:
        log_requests(cur, rows)


def test_no_calls_no_points(project):
    assert cost_over_time(project.db) == {"unit": "day", "points": [], "total": 0.0, "requests": 0}


def test_a_short_span_is_summed_per_hour(project):
    t0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    _log(project.db, [(t0, 0.01), (t0.replace(minute=5), 0.02), (t0.replace(hour=12), 0.5)])
    cost = cost_over_time(project.db)
    assert cost["unit"] == "hour" and cost["requests"] == 3
    (b1, c1, s1), (b2, c2, s2) = cost["points"]
    assert (round(c1, 6), round(s1, 6), round(c2, 6), round(s2, 6)) == (0.03, 0.03, 0.5, 0.53)
    assert (b2 - b1).total_seconds() == 3 * 3600
    assert round(review_stats(project.db)["cost"]["total"], 6) == 0.53


def test_a_long_span_is_summed_per_day_and_cumulated(project):
    days = [datetime(2025, 3, d, 12, 0, tzinfo=UTC) for d in (1, 2, 2, 6)]
    _log(project.db, list(zip(days, [1.0, 0.25, 0.25, 2.0], strict=True)))
    cost = cost_over_time(project.db)
    assert cost["unit"] == "day"
    assert [(round(c, 6), round(s, 6)) for _, c, s in cost["points"]] == [
        (1.0, 1.0), (0.5, 1.5), (2.0, 3.5)
    ]  # fmt: skip
    assert [(b - cost["points"][0][0]).days for b, _, _ in cost["points"]] == [0, 1, 5]
    assert cost["total"] == 3.5 and cost["requests"] == 4
