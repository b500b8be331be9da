"""Leaving a field that holds a value the store refuses, and undo/redo while cards are shown:
nothing typed vanishes without a word, and after undo/redo the pane shows what the database
holds (issue 14, "Edit discarded" and "Undo reversed")."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core.store import browse

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
BAD = "yes LOSTEDIT"


def _settle(qtbot):
    qtbot.wait(40)  # the pane follows the grid, and redraws, after the current event


def _stored(window, item_id):
    return next(
        i for i in browse.instructions_for_image(window.project.db, window.review.image_id)
        if i.id == item_id
    )  # fmt: skip


def _type_refused_answer(qtbot, window):
    """Image 1's judgement: type an answer that is neither yes nor no."""
    window.grid.select_row(0)
    _settle(qtbot)
    card = next(c for c in window.review.cards if c.item.itype == "judgement")
    card.answer.setFocus()
    card.answer.selectAll()
    qtbot.keyClicks(card.answer, BAD)
    return window.review.image_id, card


def _held(qtbot, window, image_id, card):
    """Still on the image, the typed text still there, the reason shown, the cursor back."""
    _settle(qtbot)
    assert window.review.image_id == image_id
    assert window.model.image_id(window.grid.currentIndex().row()) == image_id
    assert card.answer.toPlainText() == BAD
    assert window.review.error.isVisible() and "yes or no" in window.review.error.text()
    qtbot.waitUntil(card.answer.hasFocus, timeout=3000)
    assert _stored(window, card.item.id).answer == "yes"  # nothing half-saved


def test_refused_value_stays_when_another_tile_is_clicked(qtbot, window):
    image_id, card = _type_refused_answer(qtbot, window)
    tile = window.grid.visualRect(window.model.index(2, 0)).center()
    qtbot.mouseClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=tile)
    _held(qtbot, window, image_id, card)
    # Escape gives the value up: now the click moves on
    qtbot.keyClick(card.answer, Qt.Key.Key_Escape)
    assert card.answer.toPlainText() == "yes"
    qtbot.mouseClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=tile)
    _settle(qtbot)
    assert window.review.image_id == window.model.image_id(2)


def test_refused_value_stays_on_next_image_keys(qtbot, window):
    image_id, card = _type_refused_answer(qtbot, window)
    item_id = card.item.id
    qtbot.keyClick(card.answer, Qt.Key.Key_G, CTRL)  # to the grid: the field loses focus
    assert window.review.error.isVisible()
    qtbot.keyClick(window.grid, Qt.Key.Key_J)
    _held(qtbot, window, image_id, card)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_K)
    _held(qtbot, window, image_id, card)
    # fixed by hand: saved, and J moves on
    card.answer.selectAll()
    qtbot.keyClicks(card.answer, "no")
    qtbot.keyClick(card.answer, Qt.Key.Key_G, CTRL)
    qtbot.keyClick(window.grid, Qt.Key.Key_J)
    _settle(qtbot)
    assert window.review.image_id == window.model.image_id(1)
    assert not window.review.error.isVisible()
    items = browse.instructions_for_image(window.project.db, image_id)
    assert next(i for i in items if i.id == item_id).answer == "no"


def test_refused_value_stays_when_another_tab_is_picked(qtbot, window):
    image_id, card = _type_refused_answer(qtbot, window)
    assert window.tabs.count() > 1
    window.tabs.setCurrentIndex(1)
    _settle(qtbot)
    assert window.tabs.currentIndex() == 0
    _held(qtbot, window, image_id, card)


def test_closing_with_a_refused_value_asks_first(qtbot, window):
    image_id, card = _type_refused_answer(qtbot, window)
    window.close()
    qtbot.waitUntil(lambda: window.discard_box is not None and window.discard_box.isVisible())
    assert window.isVisible()
    assert "yes or no" in window.discard_box.text()
    window.discard_box.button(QMessageBox.StandardButton.Cancel).click()  # keep editing
    _held(qtbot, window, image_id, card)
    assert window.isVisible()
    window.close()
    qtbot.waitUntil(lambda: window.discard_box is not None and window.discard_box.isVisible())
    window.discard_box.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not window.isVisible())
    assert _stored(window, card.item.id).answer == "yes"


def test_pane_shows_the_database_after_undo_and_redo(qtbot, window):
    """E, change the question, Ctrl+Return, Ctrl+G, Ctrl+Z, then J and K: the card shows the
    old text, and the navigation saves nothing again."""
    window.grid.select_row(1)
    _settle(qtbot)
    image_id = window.review.image_id
    card = window.review.cards[0]
    item_id, old = card.item.id, card.item.question
    qtbot.keyClick(window.grid, Qt.Key.Key_E)
    qtbot.keyClicks(card.question, "Is the disc white?")
    qtbot.keyClick(card.question, Qt.Key.Key_Return, CTRL)
    qtbot.keyClick(card.question, Qt.Key.Key_G, CTRL)
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)
    _settle(qtbot)
    assert _stored(window, item_id).question == old
    assert card.question.toPlainText() == old
    qtbot.keyClick(window.grid, Qt.Key.Key_J)
    _settle(qtbot)
    qtbot.keyClick(window.grid, Qt.Key.Key_K)
    _settle(qtbot)
    assert window.review.image_id == image_id
    assert _stored(window, item_id).question == old
    assert window.review.cards[0].question.toPlainText() == old
    assert window.history.stack.count() == 1  # the one edit, undone; nothing saved again
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    _settle(qtbot)
    assert _stored(window, item_id).question == "Is the disc white?"
    assert window.review.cards[0].question.toPlainText() == "Is the disc white?"
