"""Check stage: the named rules over every item of each image, no model involved.

It is deterministic and cheap, so it runs directly rather than through the job engine and
can be re-run at will: results replace the previous check results (a model's flag is
kept), and only machine statuses move (new/ok/needs_review -> ok | needs_review).
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from core.pipeline.checks import CheckConfig, run_checks
from core.pipeline.items import Item
from core.pipeline.options import RunOptions
from core.pipeline.results import CheckResult
from core.pipeline.risk import risk_score
from core.pipeline.stages import DirectRun, StageSpec, register
from core.store import check_pages
from core.store.changes import selection_changes
from core.store.quality import RiskInputs


def run_check_stage(project, opts, cfg: CheckConfig | None = None, progress=None) -> dict:
    """Streams: one page of whole images is read, checked and written back at a time, so
    memory stays flat and each page costs one bulk UPDATE (see core/store/check_pages.py)."""
    db = project.db
    total = check_pages.count_images(db, opts.domain, opts.image_ids, opts.limit)
    flags_seen: Counter = Counter()
    checked = flagged = images = 0
    for page in check_pages.pages(db, opts.domain, opts.image_ids, opts.limit):
        results = []
        captions = check_pages.current_captions(db, sorted({r.image_id for r in page}))
        for image_id, group in groupby(page, key=lambda r: r.image_id):
            group = list(group)
            items = [
                Item(r.itype, r.lang, r.question, r.answer, r.options,
                     caption=_caption(captions, image_id, r.lang))
                for r in group
            ]  # fmt: skip
            for flags in run_checks(items, cfg):
                results.append([(f.name, f.message) for f in flags])
                flags_seen.update(f.name for f in flags)
                flagged += bool(flags)
            images += 1
            if progress:
                progress(images, total)
        check_pages.save_page(
            db, page, results, [_risk(r, f) for r, f in zip(page, results, strict=True)]
        )
        checked += len(page)
    return {
        "checked": checked,
        "images": images,
        "passed": checked - flagged,
        "flagged": flagged,
        "flags": dict(flags_seen.most_common()),
    }


def _risk(row: check_pages.CheckRow, flags: list[tuple[str, str]]) -> float:
    """The item's risk with its new flags, from the inputs the page read: computed here so
    the page's one UPDATE writes it (a second read and write per page doubled the cost)."""
    names = [n for n, _ in flags] + row.kept_flags
    return risk_score(
        RiskInputs(row.id, row.itype, row.lang, row.question, row.answer, names,
                   row.verify_agree, row.verify_score, row.caption_agree,
                   row.caption_untellable, row.blind_score)
    )  # fmt: skip


def _caption(captions: dict, image_id: int, lang: str) -> str | None:
    """The image's current caption in `lang`, else its caption in another language."""
    mine = captions.get(image_id, {})
    return mine.get(lang) or next(iter(mine.values()), None)


@register
class Check(StageSpec):
    name = "check"
    title = "Check (rules, no model)"
    options = RunOptions

    def needs_model(self, opts):
        return False

    def plan(self, project, opts, backend):
        return DirectRun(
            lambda progress: CheckResult(
                "check", opts.lang, opts.domain, **run_check_stage(project, opts, progress=progress)
            ),
            changes=lambda: selection_changes(project.db, opts, instructions=True),
        )
