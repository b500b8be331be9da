"""Benchmark: the desktop window on 100k images / 1M instructions, offscreen.

    .venv/bin/python bench/gui.py                  # 100,000 images, 10 instructions each
    .venv/bin/python bench/gui.py --scale 0.1      # quicker
    .venv/bin/python bench/gui.py --reuse          # keep the generated project between runs
    .venv/bin/python bench/gui.py --no-items       # without bench/gui_items.py's Items tab part

Measures open -> first painted grid, filter switches (query + repaint), scrolling through 10k
thumbnails (decoded on pool threads), edit-save latency through the review pane's undo path,
and the longest GUI-thread stall: a 5 ms QTimer heartbeat whose largest gap, minus 5 ms, is
the longest time the event loop could not run. The baseline, measured in the same run, is the
naive design: every grid row fetched at once into Python and laid out in one pass.

Targets: first paint < 1 s, filter switch < 100 ms, edit < 20 ms, no stall > 50 ms.
The project is built with DuckDB range() inserts; thumbnails and pictures are 16 shared files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED = 16
DOMAINS = ["art", "science", "sports", "medical", "street", "food", "charts", "remote_sensing"]


def build(root: Path, n_images: int, per_image: int) -> None:
    from PIL import Image, ImageDraw

    from core.project import Project

    for k in range(SHARED):
        img = Image.new("RGB", (800, 600), (k * 15, 90 + k * 5, 200 - k * 10))
        ImageDraw.Draw(img).ellipse((200, 150, 600, 450), fill=(240, 240, 230))
        (root / "shared").mkdir(parents=True, exist_ok=True)
        img.save(root / "shared" / f"{k}.jpg", quality=85)
        img.thumbnail((256, 256))
        img.save(root / "shared" / f"{k}.webp", "WEBP")
    with Project.create(root / "proj") as p:
        for k in range(SHARED):  # thumbs/ and media/ hold the shared files
            shutil.copy(root / "shared" / f"{k}.webp", p.thumbs_dir / f"{k}.webp")
            shutil.copy(root / "shared" / f"{k}.jpg", p.media_dir / f"{k}.jpg")
        cur = p.db.cursor()
        cur.execute("BEGIN")
        cur.execute(
            "INSERT INTO domains (name, position) SELECT d, i FROM (SELECT unnest(?) AS d, "
            "generate_subscripts(?, 1) AS i)",
            [DOMAINS, DOMAINS],
        )
        cur.execute(
            "INSERT INTO images (sha256, width, height, format, domain, storage, path, thumb, status) "
            "SELECT sha256(r::VARCHAR), 800, 600, 'JPEG', ?[1 + r % 8], 'copy', "
            "'media/' || (r % ?) || '.jpg', 'thumbs/' || (r % ?) || '.webp', "
            "['new', 'new', 'new', 'accepted', 'rejected', 'needs_fix'][1 + (r * 7) % 6] "
            "FROM range(?) t(r)",
            [DOMAINS, SHARED, SHARED, n_images],
        )
        cur.execute(
            """INSERT INTO instructions (image_id, itype, lang, question, options, answer, status,
                                         check_flags, verify_answer, verify_agree)
            SELECT 1 + (r % ?),
                   ['judgement', 'multiple_choice', 'short_vqa', 'long_vqa'][1 + (r // 7) % 4],
                   'en',
                   'Question ' || r || ': what does the picture show about item ' || (r % 97) || '?',
                   CASE WHEN (r // 7) % 4 = 1 THEN ['red', 'green', 'blue', 'grey'] END,
                   CASE (r // 7) % 4 WHEN 0 THEN 'yes' WHEN 1 THEN 'B' ELSE 'An answer ' || r END,
                   ['new', 'ok', 'needs_review', 'accepted', 'rejected', 'needs_fix'][1 + (r * 3) % 6],
                   CASE WHEN r % 13 = 0 THEN ['answer_leak'] WHEN r % 17 = 0
                        THEN ['too_short', 'bad_options'] ELSE [] END,
                   CASE WHEN r % 11 = 0 THEN 'no' END,
                   CASE WHEN r % 11 = 0 THEN false END
            FROM range(?) t(r)""",
            [n_images, n_images * per_image],
        )
        cur.execute(
            "INSERT INTO captions (image_id, version, text, lang, model) "
            "SELECT r, 1, 'A generated caption for picture ' || r || '.', 'en', 'bench' "
            "FROM range(1, ? + 1) t(r) WHERE r % 3 <> 0",
            [n_images],
        )
        cur.execute("COMMIT")
        cur.execute("CHECKPOINT")


class Heartbeat:
    """Records the largest gap between 5 ms timer ticks: how long the GUI thread was busy."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.reset()

    def reset(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0
        self.phase = "start"
        self.by_phase: dict[str, float] = {}

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = now - self.last - 0.005
        self.worst = max(self.worst, gap)
        self.by_phase[self.phase] = max(self.by_phase.get(self.phase, 0.0), gap)
        self.last = now

    def start(self) -> None:
        self.reset()
        self.timer.start()


def pump(app, until, timeout=30.0) -> float:
    start = time.perf_counter()
    while not until():
        app.processEvents()
        if time.perf_counter() - start > timeout:
            raise TimeoutError("condition not reached")
        time.sleep(0.0005)
    return time.perf_counter() - start


class PaintProbe:
    def __init__(self, widget):
        from PySide6.QtCore import QEvent, QObject

        probe = self

        class Filter(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Type.Paint:
                    probe.count += 1
                    probe.at = time.perf_counter()
                return False

        self.count, self.at = 0, 0.0
        self.filter = Filter()
        widget.installEventFilter(self.filter)


def measure_ours(app, root: Path, scroll_rows: int, edits: int) -> dict:
    from core.project import Project
    from desktop.main_window import MainWindow

    out = {}
    beat = Heartbeat()
    t0 = time.perf_counter()
    project = Project.open(root / "proj")
    window = MainWindow(project)
    probe = PaintProbe(window.grid.viewport())
    window.show()
    pump(app, lambda: probe.count > 0 and window.model.rowCount() > 0)
    out["first_paint_s"] = probe.at - t0
    beat.start()
    beat.phase = "after first paint"
    pump(app, window.is_idle)

    switches = {
        "domain=science": dict(domain="science"),
        "status=needs_fix": dict(domain=None, status="needs_fix"),
        "type=long_vqa": dict(status=None, itype="long_vqa"),
        "check=answer_leak": dict(itype=None, check_flag="answer_leak"),
        "verify disagrees": dict(check_flag=None, disagree=True),
        "text 'item 42?'": dict(disagree=False, text="item 42?"),
        "sort=most flags": dict(text="", sort="flags"),
        "all images": dict(sort="imported"),
    }
    times = {}
    for name, change in switches.items():
        pump(app, window.is_idle)
        beat.phase = "filter switch"
        applied = []  # (row count, paints so far) when the model took the new ids
        window.model.queryApplied.connect(lambda q, n, a=applied: a.append((n, probe.count)))
        t = time.perf_counter()
        window.filters.update(**change)
        pump(app, lambda a=applied: a and probe.count > a[0][1])  # painted after the reset
        times[name] = (probe.at - t, applied[0][0])
        window.model.queryApplied.disconnect()
        window.model.queryApplied.connect(window._query_applied)
    out["filter_switch_ms"] = {k: (round(v * 1000, 1), n) for k, (v, n) in times.items()}
    out["filter_switch_max_ms"] = max(v for v, _ in times.values()) * 1000

    pump(app, window.is_idle)
    grid, loader = window.grid, window.thumbs
    bar = grid.verticalScrollBar()
    pump(app, lambda: bar.maximum() > 0 and not grid.model().rowCount() == 0, timeout=60)
    per_row = grid.gridSize().height()
    columns = max(1, grid.viewport().width() // grid.gridSize().width())
    visible_rows = max(1, grid.viewport().height() // per_row)
    decoded = []
    loader.loaded.connect(decoded.append)
    beat.phase = "scroll"
    t = time.perf_counter()
    shown = 0
    value = 0
    while shown < scroll_rows:
        value += visible_rows * per_row
        bar.setValue(value)
        app.processEvents()  # paints the new rows: placeholders, and thumbnail requests
        pump(app, lambda: loader.pending() == 0 and not window.model.busy())
        app.processEvents()
        shown += visible_rows * columns
    out["scroll_s"] = time.perf_counter() - t
    out["scroll_rows"] = shown
    out["thumbs_decoded"] = len(decoded)
    out["thumbs_per_s"] = shown / out["scroll_s"]

    beat.phase = "review pane"
    window.grid.select_row(5)
    pump(app, window.is_idle)
    beat.phase = "edits"
    card = window.review.cards[0]
    revisions_before = project.db.scalar("SELECT count(*) FROM revisions")
    latencies = []
    for k in range(edits):
        card.question.setPlainText(f"Edited question {k}?")  # as if typed
        t = time.perf_counter()
        card.question.commit()  # validate, save + revision row, undo entry, grid row refresh
        latencies.append(time.perf_counter() - t)
        pump(app, window.is_idle)  # the pane redraws in place after the save
    t = time.perf_counter()
    window.history.undo()
    latencies.append(time.perf_counter() - t)
    count = project.db.scalar("SELECT count(*) FROM revisions") - revisions_before
    assert count == edits + 1, count  # every edit and the undo are in the revision log
    out["edit_ms_median"] = statistics.median(latencies) * 1000
    out["edit_ms_max"] = max(latencies) * 1000
    pump(app, window.is_idle)
    out["stall_ms"] = beat.worst * 1000
    out["stall_by_phase_ms"] = {k: round(v * 1000, 1) for k, v in beat.by_phase.items()}
    beat.timer.stop()
    window.close()
    window.deleteLater()
    app.processEvents()
    project.close()
    return out


def measure_baseline(app, root: Path) -> dict:
    """The naive grid: every row into Python, then a non-batched icon view over it."""
    from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt
    from PySide6.QtWidgets import QListView

    from core.project import Project
    from core.store import browse

    class AllRows(QAbstractListModel):
        def __init__(self, rows):
            super().__init__()
            self.rows = rows

        def rowCount(self, parent=QModelIndex()):
            return 0 if parent.isValid() else len(self.rows)

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role == Qt.ItemDataRole.DisplayRole:
                return f"#{self.rows[index.row()].id}"
            return None

    t0 = time.perf_counter()
    project = Project.open(root / "proj")
    ids = browse.image_ids(project.db, browse.ImageQuery())
    rows = browse.page_rows(project.db, ids.tolist())
    view = QListView()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setGridSize(QSize(168, 190))
    view.resize(1440, 900)
    model = AllRows(rows)
    view.setModel(model)
    probe = PaintProbe(view.viewport())
    view.show()
    pump(app, lambda: probe.count > 0)
    first = probe.at - t0
    view.close()
    project.close()
    return {"first_paint_s": first, "rows_in_memory": len(rows)}


def measure_check_stall(app, root: Path, n_images: int = 500, per_image: int = 13) -> dict:
    """The check stage from the Jobs tab on `n_images` images / `n_images * per_image` items
    (issue 14: 500 / 6,500 froze the window for 1.2-2.7 s): the longest GUI-thread stall from
    the click to the last redrawn tile, and as baseline, measured in the same run, the stall
    of the same check run on the GUI thread itself (what it costs when nothing is moved off)."""
    from core.pipeline import stages
    from core.pipeline.stages import plan
    from core.project import Project
    from desktop.main_window import MainWindow

    folder = root / "check"
    shutil.rmtree(folder, ignore_errors=True)
    build(folder, n_images, per_image)
    project = Project.open(folder / "proj")
    window = MainWindow(project)
    window.show()
    pump(app, window.is_idle, timeout=60)
    window.grid.select_row(3)  # a reviewer on an image the run changes
    pump(app, window.is_idle)
    panel = window.panels["jobs"]
    window.show_panel("jobs")
    pump(app, lambda: not panel.busy(), timeout=60)
    ended = []
    panel.worker.directEnded.connect(lambda key, summary: ended.append(summary))
    beat = Heartbeat()
    beat.start()
    beat.phase = "idle (the machine's floor)"  # nothing to do: what the OS alone costs
    idle = time.perf_counter()
    pump(app, lambda: time.perf_counter() - idle > 2.0, 10)
    beat.phase = "check run"
    t = time.perf_counter()
    panel.form.choose("check", "all")
    beat.phase = "start click"
    panel.form.start_button.click()
    app.processEvents()
    beat.phase = "check run"
    pump(app, lambda: bool(ended), timeout=600)
    run_s = time.perf_counter() - t
    beat.phase = "changes shown"
    pump(app, lambda: window.is_idle() and not panel.busy(), timeout=120)
    for _ in range(20):  # the queued repaints of the re-read tiles
        app.processEvents()
        time.sleep(0.005)
    # The floor again, as long as the run (at most 30 s): on a shared machine a long run
    # meets rarer, longer gaps that a 2 s floor does not (a pure-Python thread beside the
    # heartbeat, no Qt, no DuckDB: 41 ms worst in 10 s at load 2.4).
    beat.phase = "idle after, as long as the run"
    idle = time.perf_counter()
    pump(app, lambda: time.perf_counter() - idle > min(run_s, 30.0), 40)
    beat.timer.stop()
    outcome = ended[0]  # desktop.models.job_plan.DirectOutcome
    assert outcome.status == "done", outcome
    out = {
        "check_items": outcome.result.checked,
        "check_run_s": run_s,
        "check_stall_ms": max(v for k, v in beat.by_phase.items() if not k.startswith("idle"))
        * 1000,
        "check_stall_by_phase_ms": {k: round(v * 1000, 1) for k, v in beat.by_phase.items()},
        "check_kept_place": window.grid.current_image() == window.model.image_id(3),
    }
    window.close()
    window.deleteLater()
    app.processEvents()
    # baseline: the same run (forced: every item again) on the GUI thread
    run = plan(project, "check", stages.get("check").options(force=True))
    t = time.perf_counter()
    run.run(lambda done, total: None)
    out["check_baseline_stall_ms"] = (time.perf_counter() - t) * 1000
    project.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 100k images")
    parser.add_argument("--per-image", type=int, default=10, help="instructions per image")
    parser.add_argument(
        "--scroll-rows", type=int, default=10_000, help="thumbnails to scroll through"
    )
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "gui")
    parser.add_argument("--reuse", action="store_true", help="reuse a project generated earlier")
    parser.add_argument(
        "--no-items", action="store_true", help="skip the Items tab measures (bench/gui_items.py)"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the check-stage stall")
    parser.add_argument("--check-only", action="store_true", help="only the check-stage stall")
    parser.add_argument(
        "--check-images", type=int, default=500,
        help="images of the check-stall project (13 items each; 1,500+ check in worker processes)",
    )  # fmt: skip
    args = parser.parse_args()
    n_images = int(100_000 * args.scale)

    if args.check_only:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        print_check(measure_check_stall(app, args.out, args.check_images))
        return 0
    if not (args.reuse and (args.out / "proj" / "project.duckdb").exists()):
        shutil.rmtree(args.out, ignore_errors=True)
        t = time.perf_counter()
        build(args.out, n_images, args.per_image)
        print(
            f"generated {n_images:,} images / {n_images * args.per_image:,} instructions "
            f"in {time.perf_counter() - t:.1f} s"
        )

    from PySide6.QtWidgets import QApplication

    # No Python notify() override to time single events: Qt calls notify from worker threads
    # too, and a Python override there needs the GIL inside Qt's locks (it deadlocked).
    app = QApplication.instance() or QApplication([])
    ours = measure_ours(app, args.out, args.scroll_rows, args.edits)
    base = measure_baseline(app, args.out)
    check = measure_check_stall(app, args.out, args.check_images) if not args.no_check else None

    def verdict(value, target):
        return "ok" if value < target else "OVER TARGET"

    print(
        f"\nGUI benchmark: {n_images:,} images, {n_images * args.per_image:,} instructions "
        f"(Qt platform {os.environ['QT_QPA_PLATFORM']})"
    )
    print(
        f"open -> first paint        {ours['first_paint_s'] * 1000:8.1f} ms   target < 1000   "
        f"{verdict(ours['first_paint_s'], 1.0)}"
    )
    print(
        f"  baseline (all rows)      {base['first_paint_s'] * 1000:8.1f} ms   "
        f"({base['rows_in_memory']:,} rows in Python)   ratio {base['first_paint_s'] / ours['first_paint_s']:.1f}x"
    )
    print(
        f"filter switch, worst       {ours['filter_switch_max_ms']:8.1f} ms   target < 100    "
        f"{verdict(ours['filter_switch_max_ms'], 100)}"
    )
    for name, (ms, n) in ours["filter_switch_ms"].items():
        print(f"    {name:22s} {ms:8.1f} ms   {n:,} images")
    print(
        f"scroll {ours['scroll_rows']:,} thumbnails     {ours['scroll_s']:8.2f} s    "
        f"{ours['thumbs_per_s']:,.0f} thumbnails/s ({ours['thumbs_decoded']:,} decoded off the GUI thread)"
    )
    print(
        f"edit -> saved, median      {ours['edit_ms_median']:8.2f} ms   target < 20     "
        f"{verdict(ours['edit_ms_median'], 20)}"
    )
    print(f"edit -> saved, worst       {ours['edit_ms_max']:8.2f} ms")
    print(
        f"longest GUI-thread stall   {ours['stall_ms']:8.1f} ms   target < 50     "
        f"{verdict(ours['stall_ms'], 50)}   (after first paint)"
    )
    for phase, ms in ours["stall_by_phase_ms"].items():
        print(f"    {phase:22s} {ms:8.1f} ms")
    if check is not None:
        print_check(check)
    print(
        f"machine load average       {os.getloadavg()[0]:8.2f}      on {os.cpu_count()} CPUs "
        "(stalls include time the OS gave other processes)"
    )
    if not args.no_items:
        from bench.gui_items import run_items

        run_items(app, args.out)
    return 0


def print_check(check: dict) -> None:
    stall, base = check["check_stall_ms"], check["check_baseline_stall_ms"]
    print(
        f"check stage, {check['check_items']:,} items: longest GUI stall {stall:8.1f} ms   "
        f"target < 100    {'ok' if stall < 100 else 'OVER TARGET'}   (run {check['check_run_s']:.1f} s)"
    )
    print(
        f"    on the GUI thread      {base:8.1f} ms   baseline, ratio {base / max(stall, 0.1):.1f}x"
    )
    for phase, ms in check["check_stall_by_phase_ms"].items():
        print(f"    {phase:22s} {ms:8.1f} ms")
    print(f"    reviewer's image kept  {check['check_kept_place']}")


if __name__ == "__main__":
    sys.exit(main())
