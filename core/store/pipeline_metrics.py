"""Pipeline metrics per domain x type for `mmstudio stats --json` ("pipeline" key).

generated: items the generate stage wrote; checked: items the check stage has seen (status no
longer `new`); passed: checked with no flag; flagged: with any flag; accepted: a person
accepted it; corrected: its question, options or answer was edited by a person (revisions);
cost_usd: what the generate and verify calls for these items cost, plus each image's caption
calls shared evenly over the types generated for it; cost_per_accepted: cost_usd / accepted.
"""

from __future__ import annotations

from core.store.db import Database

_CONTENT = "('question', 'options', 'answer')"


def pipeline_metrics(db: Database) -> dict:
    rows = db.fetchall(
        f"""
        SELECT coalesce(i.domain, '') AS domain, n.itype,
               count(*) FILTER (WHERE n.origin = 'generated') AS generated,
               count(*) FILTER (WHERE n.status <> 'new') AS checked,
               count(*) FILTER (WHERE n.status <> 'new' AND len(coalesce(n.check_flags, [])) = 0),
               count(*) FILTER (WHERE len(coalesce(n.check_flags, [])) > 0),
               count(*) FILTER (WHERE n.status = 'accepted'),
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM revisions r WHERE r.tbl = 'instructions'
                                AND r.row_id = n.id AND r.field IN {_CONTENT})),
               count(*) FILTER (WHERE n.verify_agree = false)
        FROM instructions n JOIN images i ON i.id = n.image_id
        GROUP BY ALL ORDER BY ALL
        """
    )
    costs = _costs(db)
    by: dict[str, dict] = {}
    totals = dict.fromkeys(("generated", "checked", "passed", "flagged", "accepted", "corrected",
                            "verify_disagree"), 0) | {"cost_usd": 0.0}  # fmt: skip
    for domain, itype, gen, checked, passed, flagged, accepted, corrected, disagree in rows:
        cost = round(costs.get((domain, itype), 0.0), 6)
        entry = {
            "generated": gen,
            "checked": checked,
            "passed": passed,
            "flagged": flagged,
            "accepted": accepted,
            "corrected": corrected,
            "verify_disagree": disagree,
            "cost_usd": cost,
            "cost_per_accepted": round(cost / accepted, 6) if accepted else None,
        }
        by.setdefault(domain, {})[itype] = entry
        for key in totals:
            totals[key] += entry[key]
    totals["cost_usd"] = round(totals["cost_usd"], 6)
    totals["cost_per_accepted"] = (
        round(totals["cost_usd"] / totals["accepted"], 6) if totals["accepted"] else None
    )
    return {"by_domain": by, "totals": totals}


def _costs(db: Database) -> dict[tuple[str, str], float]:
    """Spend per (domain, itype) from the job items of pipeline jobs."""
    out: dict[tuple[str, str], float] = {}
    # generate items are keyed image:itype:lang
    for domain, itype, cost in db.fetchall(
        """
        SELECT coalesce(i.domain, ''), split_part(ji.item_key, ':', 2), sum(ji.cost_usd)
        FROM job_items ji JOIN jobs j ON j.id = ji.job_id
        JOIN images i ON i.id = TRY_CAST(split_part(ji.item_key, ':', 1) AS BIGINT)
        WHERE j.stage = 'generate' AND ji.cost_usd IS NOT NULL GROUP BY ALL
        """
    ):
        out[(domain, itype)] = out.get((domain, itype), 0.0) + cost
    # verify items are keyed by instruction id
    for domain, itype, cost in db.fetchall(
        """
        SELECT coalesce(i.domain, ''), n.itype, sum(ji.cost_usd)
        FROM job_items ji JOIN jobs j ON j.id = ji.job_id
        JOIN instructions n ON n.id = TRY_CAST(ji.item_key AS BIGINT)
        JOIN images i ON i.id = n.image_id
        WHERE j.stage = 'verify' AND ji.cost_usd IS NOT NULL GROUP BY ALL
        """
    ):
        out[(domain, itype)] = out.get((domain, itype), 0.0) + cost
    # captions (image:lang) shared evenly over the types generated for that image
    for domain, itype, cost in db.fetchall(
        """
        WITH cap AS (
            SELECT TRY_CAST(split_part(ji.item_key, ':', 1) AS BIGINT) AS image_id,
                   sum(ji.cost_usd) AS cost
            FROM job_items ji JOIN jobs j ON j.id = ji.job_id
            WHERE j.stage IN ('caption', 'caption_retry') AND ji.cost_usd IS NOT NULL GROUP BY 1
        ), types AS (
            SELECT DISTINCT image_id, itype FROM instructions WHERE origin = 'generated'
        )
        SELECT coalesce(i.domain, ''), t.itype,
               sum(cap.cost / (SELECT count(*) FROM types t2 WHERE t2.image_id = cap.image_id))
        FROM cap JOIN types t ON t.image_id = cap.image_id JOIN images i ON i.id = cap.image_id
        GROUP BY ALL
        """
    ):
        out[(domain, itype)] = out.get((domain, itype), 0.0) + cost
    return out
