"""The review pane's reading aids (issue 14, Deliver 8): the file's name and source, a new
image read from the top, the verifiers' answers once on one line, and a narrow pane that
scrolls instead of cutting its buttons off."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect

from core.store import browse
from tests.desktop.conftest import wait_idle
from tests.desktop.test_screenshots import save

pytestmark = pytest.mark.gui


def _settle(qtbot, window):
    wait_idle(qtbot, window)
    qtbot.wait(30)


def test_the_file_name_and_source_are_shown(qtbot, window, tmp_path):
    from core.library.importer import import_paths
    from tests.desktop.test_dialogs import _photos

    folder = _photos(tmp_path / "holiday", 1)
    name = "p0.jpg"
    summary = import_paths(window.project, [folder / name], domain="art", workers=0)
    window.show_changes(summary.changes())
    qtbot.waitUntil(lambda: window.model.rowCount() == 13, timeout=5000)
    new = max(int(i) for i in window.model.ids())
    window.grid.select_row(window.model.row_of(new))
    _settle(qtbot, window)
    text = window.review.origin.text()
    assert name in text and str(folder) in text and "imported file" in text


def test_a_new_image_is_shown_from_its_top(qtbot, window):
    pane = window.review
    pane.split.setSizes([600, 120])  # little room for the cards: the list scrolls
    window.grid.select_row(4)  # five instructions
    _settle(qtbot, window)
    bar = pane.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum())
    window.grid.select_row(5)
    _settle(qtbot, window)
    assert bar.value() == 0


def test_verifier_answers_are_shown_once_on_one_line(qtbot, window):
    db = window.project.db
    image_id, item_id, answer = db.fetchone(
        "SELECT image_id, id, verify_answer FROM instructions "
        "WHERE verify_agree = false ORDER BY id LIMIT 1"
    )
    db.execute(
        "UPDATE instructions SET check_flags = list_append(check_flags, 'verify_disagree'), "
        "caption_verify_answer = 'no', caption_verify_agree = false, risk = 0.83 WHERE id = ?",
        [item_id],
    )
    window.grid.select_row(window.model.row_of(image_id))
    _settle(qtbot, window)
    card = next(c for c in window.review.cards if c.item.id == item_id)
    notes = card.notes.text()
    assert notes.count(f"<b>{answer}</b>") == 1  # the image verifier's answer, once
    assert "verify_disagree" not in notes  # its flag is that same fact: not listed again
    verifier_lines = [line for line in notes.split("<br>") if "Verifiers:" in line]
    assert len(verifier_lines) == 1
    line = verifier_lines[0]
    assert "image ≠" in line and "caption ≠ <b>no</b>" in line and "risk 0.83" in line
    stored = {i.id: i for i in browse.instructions_for_image(db, image_id)}[item_id]
    for flag in stored.check_flags:  # the checks' own flags are still listed
        assert (flag in notes) != (flag == "verify_disagree")


def _inside(widget, ancestor) -> bool:
    top_left = widget.mapTo(ancestor, QPoint(0, 0))
    return ancestor.rect().contains(QRect(top_left, widget.size()))


def test_a_narrow_pane_scrolls_instead_of_cutting_buttons(qtbot, window):
    from PySide6.QtWidgets import QAbstractButton

    window.grid.select_row(4)
    _settle(qtbot, window)
    pane = window.review
    split = pane.parentWidget()
    sizes = split.sizes()
    split.setSizes([sizes[0], sizes[1] + sizes[2] - 120, 120])
    _settle(qtbot, window)
    body = pane.scroll.widget()
    viewport = pane.scroll.viewport()
    buttons = [b for b in body.findChildren(QAbstractButton) if b.isVisibleTo(body)]
    assert buttons and body.width() > viewport.width()  # too narrow for the buttons
    assert pane.scroll.horizontalScrollBar().isVisible()
    for button in buttons:  # each is laid out whole, and scrolling brings it into view
        assert _inside(button, body), button.text()
        pane.scroll.ensureWidgetVisible(button, 0, 0)
        assert _inside(button, viewport), button.text()
    save(window, "11_review_pane_narrow")
