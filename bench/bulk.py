"""Benchmark: bulk work from the grid on 100k images / 1M instructions, offscreen.

    .venv/bin/python bench/bulk.py               # 100,000 images, 10 instructions each
    .venv/bin/python bench/bulk.py --scale 0.1   # quicker
    .venv/bin/python bench/bulk.py --reuse       # keep the generated project (bench/out/bulk)

Through the real window (desktop.views.bulk_actions): select 10k tiles, reject them, undo,
redo; select all matching the filter (100k) and read the selection; delete 10k to the trash
and undo; preview and apply a find-and-replace over 10k images. For each, the wall time and
the longest GUI-thread stall (bench/gui.py's 5 ms heartbeat). The baseline, in the same run,
is the same rejection done on the GUI thread (the stall is then the whole write).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.gui import Heartbeat, build, pump  # noqa: E402


def _timed(app, beat, name, start, until, results, timeout=600.0) -> None:
    beat.start()
    beat.phase = name
    t = time.perf_counter()
    start()
    pump(app, until, timeout)
    results[name] = (time.perf_counter() - t, beat.by_phase.get(name, 0.0))
    beat.timer.stop()


def measure(app, root: Path, n_sel: int) -> dict:
    import numpy as np
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    from core.project import Project
    from core.store import bulk, review
    from desktop.main_window import MainWindow

    project = Project.open(root / "proj")
    window = MainWindow(project)
    window.show()
    pump(app, window.is_idle, 60)
    beat = Heartbeat()
    out: dict = {}
    model, sm = window.model, window.grid.selectionModel()
    first, last = model.index(0), model.index(n_sel - 1)

    def select_range() -> None:
        sm.select(QItemSelection(first, last), QItemSelectionModel.SelectionFlag.ClearAndSelect)

    select_range()
    pump(app, window.is_idle, 60)
    ids = window.bulk.selection.ids()
    assert len(ids) == n_sel
    stack = window.history.stack

    _timed(app, beat, "reject", lambda: window.bulk.decide("rejected"),
           lambda: stack.index() == 1 and window.is_idle(), out)  # fmt: skip
    _timed(app, beat, "undo", window.on_undo, window.is_idle, out)
    _timed(app, beat, "redo", window.on_redo, window.is_idle, out)
    _timed(app, beat, "undo again", window.on_undo, window.is_idle, out)

    t = time.perf_counter()
    window.bulk.select_all()
    all_ids = window.bulk.selection.ids()
    out["select all + ids"] = (time.perf_counter() - t, None)
    out["select all count"] = len(all_ids)

    select_range()
    before = stack.index()
    _timed(app, beat, "delete", window.bulk.delete,
           lambda: stack.index() == before + 1 and window.is_idle(), out)  # fmt: skip
    _timed(app, beat, "restore (undo)", window.on_undo, window.is_idle, out)

    select_range()
    window.bulk.open_replace(selection_first=True)
    dialog = window.bulk.replace_dialog
    dialog.find.setText("picture")
    dialog.replacement.setText("photo")
    _timed(app, beat, "replace preview", dialog.preview, lambda: not dialog.busy(), out)
    out["replace changes"] = len(dialog.plan.valid)
    before = stack.index()
    _timed(app, beat, "replace apply", dialog.apply,
           lambda: stack.index() == before + 1 and window.is_idle(), out)  # fmt: skip
    _timed(app, beat, "replace undo", window.on_undo, window.is_idle, out)
    dialog.close()

    # baseline: the same rejection on the GUI thread
    beat.start()
    beat.phase = "baseline"
    t = time.perf_counter()
    changes = bulk.decide_images(project.db, np.asarray(ids), "rejected")
    window.history.changed.emit(frozenset(int(i) for i in ids), False)
    app.processEvents()
    out["baseline reject"] = (time.perf_counter() - t, beat.by_phase.get("baseline", 0.0))
    beat.timer.stop()
    out["reject changes"] = len(changes)
    review.apply_changes(project.db, review.inverse(changes))
    window.shutdown()
    project.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 100k images")
    parser.add_argument("--per-image", type=int, default=10)
    parser.add_argument("--select", type=int, default=10_000, help="tiles to act on")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "out" / "bulk"
    )
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    n_images = int(100_000 * args.scale)
    n_sel = min(args.select, n_images)
    if not (args.reuse and (args.out / "proj" / "project.duckdb").exists()):
        shutil.rmtree(args.out, ignore_errors=True)
        t = time.perf_counter()
        build(args.out, n_images, args.per_image)
        print(f"generated {n_images:,} images in {time.perf_counter() - t:.1f} s")

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    r = measure(app, args.out, n_sel)
    print(f"\nbulk benchmark: {n_images:,} images, {n_images * args.per_image:,} instructions, "
          f"{n_sel:,} selected ({r['reject changes']:,} rows per decision)")  # fmt: skip
    print(f"{'action':22s} {'wall':>9s} {'GUI stall':>10s}")
    for name, value in r.items():
        if isinstance(value, tuple):
            wall, stall = value
            shown = "" if stall is None else f"{stall * 1000:8.1f} ms"
            print(f"{name:22s} {wall * 1000:7.0f} ms {shown:>10s}")
    print(f"select all: {r['select all count']:,} ids; replace: {r['replace changes']:,} changes")
    base_stall = r["baseline reject"][1]
    ours = max(v[1] for k, v in r.items() if isinstance(v, tuple) and v[1] is not None
               and k != "baseline reject")  # fmt: skip
    print(f"longest stall, ours {ours * 1000:.1f} ms vs the GUI-thread write {base_stall * 1000:.1f}"
          f" ms: ratio {base_stall / max(ours, 1e-6):.1f}x; target < 100 ms: "
          f"{'ok' if ours < 0.1 else 'OVER TARGET'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
