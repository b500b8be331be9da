"""Check stage: the named rules over every item of each image, no model involved.

It is deterministic and cheap, so it runs directly rather than through the job engine and
can be re-run at will: results replace the previous check results (a model's flag is
kept), and only machine statuses move (new/ok/needs_review -> ok | needs_review).
"""

from __future__ import annotations

from collections import Counter

from core.library.pool import default_workers
from core.pipeline import check_workers
from core.pipeline.checks import CheckConfig
from core.pipeline.options import RunOptions
from core.pipeline.results import CheckResult
from core.pipeline.stages import DirectRun, StageSpec, register
from core.store import check_pages
from core.store.changes import selection_changes


def run_check_stage(
    project, opts, cfg: CheckConfig | None = None, progress=None, workers: int | None = None
) -> dict:
    """Streams: one page of whole images is read, checked and written back at a time, so
    memory stays flat and each page costs one bulk UPDATE (see core/store/check_pages.py).
    `workers`: processes for the rules (None: one per core for 1,500 images or more;
    see core/pipeline/check_workers.py), 0 checks in this process."""
    db = project.db
    total = check_pages.count_images(db, opts.domain, opts.image_ids, opts.limit)
    if workers is None:
        many = total >= check_workers.MIN_IMAGES_FOR_WORKERS
        workers = default_workers() if many else 0
    flags_seen: Counter = Counter()
    checked = flagged = images = 0

    def one_image():
        nonlocal images
        images += 1
        if progress:
            progress(images, total)

    def with_captions():
        for page in check_pages.pages(db, opts.domain, opts.image_ids, opts.limit):
            yield page, check_pages.current_captions(db, sorted({r.image_id for r in page}))

    for page, result in check_workers.checked_pages(with_captions(), cfg, workers, one_image):
        check_pages.save_page(db, page, result.flags, result.risks)
        flags_seen.update(result.names)
        flagged += sum(1 for f in result.flags if f)
        checked += len(page)
        if workers > 0:  # a worker's page: its images count once it is written
            images += result.images
            if progress:
                progress(images, total)
    return {
        "checked": checked,
        "images": images,
        "passed": checked - flagged,
        "flagged": flagged,
        "flags": dict(flags_seen.most_common()),
    }


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
