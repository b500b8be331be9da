"""Benchmark: the check stage over 1M instructions (100k images), streaming pages, against the
stage's earlier loop (the whole table as Python rows, then one SELECT + UPDATE per item),
measured in the same run.

    .venv/bin/python bench/check_stage.py                 # 1,000,000 items
    .venv/bin/python bench/check_stage.py --scale 0.1     # quicker
    .venv/bin/python bench/check_stage.py --baseline-images 500

The baseline's per-item cost is timed on its first --baseline-images images (after it has
read the whole table, which it always does) and extrapolated to the full table; it is never
run over 1M items. Ours runs over all of them. RSS is sampled every 20 ms while each runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from itertools import groupby
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.export import build  # noqa: E402


class RSS:
    def __init__(self):
        import psutil

        self.proc, self.peak = psutil.Process(), 0
        self.child_cpu: dict[int, float] = {}  # the check workers (the fork server's children)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        # this process and its check workers together
        while not self._stop.is_set():
            rss = self.proc.memory_info().rss
            for child in self.proc.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                    times = child.cpu_times()
                    self.child_cpu[child.pid] = times.user + times.system
                except Exception:  # a worker that just ended
                    pass
            self.peak = max(self.peak, rss)
            self._stop.wait(0.02)

    def __enter__(self):
        self.start = self.proc.memory_info().rss
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def _cpu() -> float:
    """CPU seconds of this process (DuckDB's threads included)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def baseline(project, images: int) -> tuple[float, float, int]:
    """(seconds to read the table, seconds for the sample, items in the sample): the loop
    the stage had before it streamed."""
    from core.pipeline.checks import run_checks
    from core.pipeline.items import Item
    from core.store import pipeline as store

    t0 = time.perf_counter()
    rows = [r for r in store.select_instructions(project.db) if r.status != "rejected"]
    groups = [list(g) for _, g in groupby(rows, key=lambda r: r.image_id)]
    read = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = []
    for group in groups[:images]:
        items = [Item(r.itype, r.lang, r.question, r.answer, r.options) for r in group]
        for row, flags in zip(group, run_checks(items), strict=True):
            results.append((row.id, [f.name for f in flags], [f.message for f in flags]))
    store.save_check_results(project.db, results)
    return read, time.perf_counter() - t0, len(results)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M items over 100k images")
    ap.add_argument("--baseline-images", type=int, default=300)
    ap.add_argument("--workdir", help="where the project goes (default: the temp folder)")
    args = ap.parse_args()
    n_items, n_images = int(1_000_000 * args.scale), int(100_000 * args.scale)
    work = Path(tempfile.mkdtemp(prefix="mmstudio-bench-check-", dir=args.workdir))
    try:
        from core.pipeline.common import StageOptions
        from core.pipeline.stage_check import run_check_stage
        from core.project import Project

        t0 = time.perf_counter()
        build(work, n_items, n_images)
        with Project.open(work / "proj") as p:
            p.db.execute("UPDATE instructions SET status = 'new'")
        print(f"project: {n_items:,} items over {n_images:,} images, built in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
        with Project.open(work / "proj") as p:
            with RSS() as rss:
                t0, c0 = time.perf_counter(), _cpu()
                summary = run_check_stage(p, StageOptions())
                ours, ours_cpu = time.perf_counter() - t0, _cpu() - c0
            # the workers' CPU as last sampled (within 20 ms of their end)
            ours_cpu += sum(rss.child_cpu.values())
            with RSS() as rss_base:
                c0 = time.process_time()
                read, sample, k = baseline(p, args.baseline_images)
                base_cpu = time.process_time() - c0
        rate = summary["checked"] / ours
        base_total = read + sample / k * summary["checked"]
        base_rate = summary["checked"] / base_total
        print(f"checked {summary['checked']:,} items of {summary['images']:,} images, "
              f"{summary['flagged']:,} flagged")  # fmt: skip
        print(f"streaming stage : {rate:9.0f} items/s ({ours:.1f} s), RSS +"
              f"{(rss.peak - rss.start) / 2**20:.0f} MiB (peak {rss.peak / 2**20:.0f} MiB)")  # fmt: skip
        print(f"earlier loop    : {base_rate:9.0f} items/s (read all {read:.1f} s + {k:,} items "
              f"in {sample:.1f} s, extrapolated {base_total:.0f} s), RSS +"
              f"{(rss_base.peak - rss_base.start) / 2**20:.0f} MiB")  # fmt: skip
        print(f"ratio           : {rate / base_rate:.1f}x")
        # CPU seconds (this process with DuckDB's threads, and the check workers): on a shared machine the
        # wall clock measures the neighbours; the baseline's is extrapolated like its time
        base_cpu_total = base_cpu * base_total / (read + sample)
        print(f"CPU time        : streaming {summary['checked'] / ours_cpu:9.0f} items/CPU-s "
              f"({ours_cpu:.1f} s), earlier loop {summary['checked'] / base_cpu_total:9.0f} "
              f"items/CPU-s (~{base_cpu_total:.0f} s): {base_cpu_total / ours_cpu:.1f}x")  # fmt: skip
        print(f"load            : {os.getloadavg()[0]:.1f} (1-min load average at the end)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
