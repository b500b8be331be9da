"""Check stage: the named rules over every item of each image, no model involved.

It is deterministic and cheap, so it runs directly rather than through the job engine and
can be re-run at will: results replace the previous check results (a verify disagreement is
kept), and only machine statuses move (new/ok/needs_review -> ok | needs_review).
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from core.pipeline.checks import CheckConfig, run_checks
from core.pipeline.items import Item
from core.store import pipeline as store


def run_check_stage(project, opts, cfg: CheckConfig | None = None, progress=None) -> dict:
    rows = [
        r
        for r in store.select_instructions(project.db, domain=opts.domain, image_ids=opts.image_ids)
        if r.status != "rejected"
    ]
    images = [list(g) for _, g in groupby(rows, key=lambda r: r.image_id)]
    if opts.limit is not None:
        images = images[: opts.limit]
    flags_seen: Counter = Counter()
    results = []
    for n, group in enumerate(images, start=1):
        items = [Item(r.itype, r.lang, r.question, r.answer, r.options) for r in group]
        for row, flags in zip(group, run_checks(items, cfg), strict=True):
            results.append((row.id, [f.name for f in flags], [f.message for f in flags]))
            flags_seen.update(f.name for f in flags)
        if progress:
            progress(n, len(images))
    store.save_check_results(project.db, results)
    flagged = sum(1 for _, names, _ in results if names)
    return {
        "checked": len(results),
        "images": len(images),
        "passed": len(results) - flagged,
        "flagged": flagged,
        "flags": dict(flags_seen.most_common()),
    }
