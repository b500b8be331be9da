"""The check stage's rules on a page of images, in this process or in worker processes.

The rules are pure Python and cost ~0.3 ms an item, four fifths of a check run; the page reads
and writes are DuckDB's. Worker processes run the rules of the next pages while this process
writes the last one, so a large project is checked on every core, and the process that owns
the GUI holds the GIL only for the page's reads, writes and pickles (a check on a thread of
the GUI process used to take the GIL from the event loop for the whole run).

A small project is checked here: starting workers costs more than its rules do.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import groupby

from core.pipeline.checks import CheckConfig, run_checks
from core.pipeline.items import Item
from core.pipeline.risk import risk_score
from core.store.check_pages import CheckRow
from core.store.quality import RiskInputs

log = logging.getLogger(__name__)

MIN_IMAGES_FOR_WORKERS = 1500  # fewer: the rules cost less than starting the workers


@dataclass
class PageResult:
    flags: list[list[tuple[str, str]]]  # per row, the new (name, message) flags
    risks: list[float]  # per row, its risk with those flags
    images: int
    names: list[str] = field(default_factory=list)  # every new flag's name, for the summary


def check_page(
    rows: list[CheckRow],
    captions: dict[int, dict[str, str]],
    cfg: CheckConfig | None,
    on_image: Callable[[], None] | None = None,
) -> PageResult:
    out = PageResult([], [], 0)
    for image_id, group in groupby(rows, key=lambda r: r.image_id):
        group = list(group)
        items = [
            Item(r.itype, r.lang, r.question, r.answer, r.options,
                 caption=_caption(captions, image_id, r.lang))
            for r in group
        ]  # fmt: skip
        for row, flags in zip(group, run_checks(items, cfg), strict=True):
            pairs = [(f.name, f.message) for f in flags]
            out.flags.append(pairs)
            out.names += [n for n, _ in pairs]
            out.risks.append(_risk(row, pairs))
        out.images += 1
        if on_image:
            on_image()
    return out


def _risk(row: CheckRow, flags: list[tuple[str, str]]) -> float:
    """The item's risk with its new flags, from the inputs the page read: computed with the
    flags so the page's one UPDATE writes both (a second read and write per page doubled
    the cost)."""
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


WORKER_NICE = 10  # the rules' processes give way to the window's (and every other) process


def _yield_cpu() -> None:
    """Runs first in each worker: a lower CPU priority, so that on a machine whose cores the
    workers fill (they are one per core) the process that owns the window still gets a core
    when it wakes up; the run still uses every idle cycle. (No os.nice on Windows.)"""
    if hasattr(os, "nice"):
        try:
            os.nice(WORKER_NICE)
        except OSError:  # not allowed: run at the same priority
            pass


def _context():
    # forkserver: children forked from a clean server, not from a process holding DuckDB's
    # threads; spawn where there is none (Windows, macOS)
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def checked_pages(
    pages: Iterable[tuple[list[CheckRow], dict]],
    cfg: CheckConfig | None,
    workers: int,
    on_image: Callable[[], None] | None = None,
) -> Iterator[tuple[list[CheckRow], PageResult]]:
    """(rows, result) per page in page order; `workers` 0 checks here (calling `on_image`
    after each image). A worker that dies (killed, out of memory) costs nothing: its page
    and the rest are checked here."""
    if workers <= 0:
        for rows, captions in pages:
            yield rows, check_page(rows, captions, cfg, on_image)
        return
    pages = iter(pages)
    inflight: deque[tuple[list[CheckRow], dict, Future]] = deque()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_yield_cpu)
    try:
        while True:
            while len(inflight) < workers + 1:
                nxt = next(pages, None)
                if nxt is None:
                    break
                rows, captions = nxt
                inflight.append((rows, captions, pool.submit(check_page, rows, captions, cfg)))
            if not inflight:
                return
            rows, captions, fut = inflight.popleft()
            try:
                result = fut.result()
            except BrokenProcessPool:
                log.warning("a check worker process died; the rest of the run is checked here")
                yield rows, check_page(rows, captions, cfg)
                for rows, captions, _ in inflight:
                    yield rows, check_page(rows, captions, cfg)
                inflight.clear()
                yield from checked_pages(pages, cfg, 0)
                return
            yield rows, result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
