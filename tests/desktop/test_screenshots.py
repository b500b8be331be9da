"""Pictures of the main states, saved to tests/screenshots/ for a person to look at.

Each test also checks the picture holds what the state is about (colours present), so a blank
window fails here rather than only in someone's eyes. No check reads a size in pixels: those
follow the machine's fonts and window manager.
"""

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tests.desktop.conftest import wait_idle
from tests.desktop.test_dialogs import _photos

pytestmark = pytest.mark.gui

OUT = Path(__file__).resolve().parent.parent / "screenshots"


def save(widget, name: str) -> QImage:
    OUT.mkdir(exist_ok=True)
    widget.repaint()
    image = widget.grab().toImage()
    path = OUT / f"{name}.png"
    assert not image.isNull() and image.save(str(path)), path
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 20, f"{name} looks blank"
    return image


def _has_colour(image: QImage, hex_colour: str, tolerance: int = 12) -> bool:
    from PySide6.QtGui import QColor

    want = QColor(hex_colour)
    for x in range(0, image.width(), 2):
        for y in range(0, image.height(), 2):
            c = image.pixelColor(x, y)
            if (
                max(
                    abs(c.red() - want.red()),
                    abs(c.green() - want.green()),
                    abs(c.blue() - want.blue()),
                )
                <= tolerance
            ):
                return True
    return False


def test_main_window(qtbot, window):
    image = save(window, "01_main_window")
    assert image.width() == window.width()
    assert _has_colour(image, "#c8463d")  # a red check-flag badge on some tile


def test_review_flagged_item(qtbot, window):
    db = window.project.db
    image_id, item_id = db.fetchone(
        "SELECT image_id, id FROM instructions WHERE verify_agree = false AND len(check_flags) > 0 "
        "ORDER BY image_id LIMIT 1"
    )
    window.grid.select_row(window.model.row_of(image_id))
    wait_idle(qtbot, window)
    ids = [c.item.id for c in window.review.cards]
    while window.review.current_item_id() != item_id:
        assert window.review.next_item(1)
    wait_idle(qtbot, window)
    image = save(window, "02_review_flagged_item")
    assert _has_colour(image, "#d97a00")  # the verifier's disagreement note
    assert item_id in ids


def test_filtered_grid(qtbot, window):
    bar = window.filter_bar
    with qtbot.waitSignal(window.model.queryApplied):
        window.sidebar.list.setCurrentRow(2)
    with qtbot.waitSignal(window.model.queryApplied):
        bar.flag.setCurrentIndex(bar.flag.findData("*"))
    wait_idle(qtbot, window)
    save(window, "03_filtered_science_flagged")


def test_edit_refused(qtbot, window):
    card = window.review.cards[0]
    card.answer.setFocus()
    card.answer.selectAll()
    qtbot.keyClicks(card.answer, "perhaps")
    qtbot.keyClick(card.answer, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(30)
    image = save(window, "04_edit_refused")
    assert _has_colour(image, "#c8463d")


def test_stats_tab(qtbot, window):
    from core.store import review

    db = window.project.db
    ids = [r[0] for r in db.fetchall("SELECT id FROM instructions ORDER BY id LIMIT 12")]
    review.edit_instruction(db, ids[0], "question", "Is the disc white?")
    review.set_instruction_status(db, ids[:8], "accepted")
    review.set_instruction_status(db, ids[8:], "rejected")
    _log_spend(db)
    window.show_panel("stats")
    stats = window.panels["stats"]
    qtbot.waitUntil(lambda: stats.stats is not None, timeout=5000)
    image = save(window, "05_stats")
    assert _has_colour(image, "#3c9a5f")  # accepted segments
    assert stats.stats["cost"]["unit"] == "day" and stats.cost.point_count() == 4
    assert "$1.75" in stats.summary.text()
    stats.cost.ensurePolished()
    chart = save(stats.cost, "05b_stats_cost")
    assert _has_colour(chart, "#c8463d")  # the cumulative spend line


def _log_spend(db) -> None:
    """Model calls on three days of a week: $0.50, $0.25 + $0.25, then $0.75."""
    from datetime import UTC, datetime

    from core.store.jobs import RequestRow, log_requests

    calls = [(1, 0.5), (2, 0.25), (2, 0.25), (6, 0.75)]
    rows = [
        RequestRow(
            None,
            f"k{n}",
            1,
            "lb",
            "gpt-4o-mini",
            None,
            datetime(2025, 3, day, 12, tzinfo=UTC).timestamp(),
            100.0,
            50,
            10,
            1,
            cost,
            "ok",
        )  # fmt: skip
        for n, (day, cost) in enumerate(calls)
    ]
    with db.tx() as cur:
        log_requests(cur, rows)


def test_shortcuts_dialog(qtbot, window):
    window.on_show_shortcuts()
    save(window.shortcuts_dialog, "06_shortcuts")
    window.shortcuts_dialog.close()


def test_import_summary(qtbot, window, tmp_path):
    window.on_import_images()
    dialog = window.import_dialog
    dialog.add_paths([_photos(tmp_path / "in", 2)])
    dialog.domain.setEditText("food")
    with qtbot.waitSignal(dialog.imported, timeout=60000):
        dialog.start()
    save(dialog, "07_import_summary")
    dialog.close()


def test_export_dialog(qtbot, window):
    window.on_export_data()
    save(window.export_dialog, "08_export_dialog")
    window.export_dialog.close()


def test_error_dialog(qtbot, window):
    from desktop.errors import ErrorReporter

    reporter = ErrorReporter(window.project.logs_dir)
    try:
        raise KeyError("example failure")
    except KeyError as exc:
        reporter.handle(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(reporter.dialog.isVisible)
    save(reporter.dialog, "09_error_dialog")
    reporter.dialog.close()
    reporter.uninstall()


def test_locked_project_message(qtbot, holder, monkeypatch):
    from desktop.app import SCREENSHOT_ENV, run

    OUT.mkdir(exist_ok=True)
    shot = OUT / "10_project_locked.png"
    monkeypatch.setenv(SCREENSHOT_ENV, str(shot))
    path, _proc = holder
    assert run(path) == 2
    image = QImage(str(shot))
    assert not image.isNull()


def test_cost_points_start_at_zero_and_label_their_buckets():
    from datetime import datetime

    from desktop.views.stats_view import cost_points

    days = {
        "unit": "day",
        "points": [(datetime(2025, 3, 1), 1.0, 1.0), (datetime(2025, 3, 4), 0.5, 1.5)],
        "total": 1.5,
        "requests": 3,
    }
    points, x_format = cost_points(days)
    assert points == [(0.0, 0.0), (1.0, 1.0), (4.0, 1.5)]
    assert (x_format(0), x_format(3), x_format(0.5)) == ("03-01", "03-04", "")
    hours = {"unit": "hour", "points": [(datetime(2025, 3, 1, 9), 0.2, 0.2)], "total": 0.2}
    points, x_format = cost_points(hours)
    assert points == [(0.0, 0.0), (1.0, 0.2)] and x_format(1.5) == "10:30"
    assert cost_points({"unit": "day", "points": [], "total": 0.0})[0] == []
