"""Find and replace in the real window: the preview lists every change, Apply writes them,
one Ctrl+Z reverts the whole batch; a bad pattern is a message, not a traceback."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core import replace
from core.store.browse import ImageQuery

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier


def _texts(db):
    return (
        db.fetchall("SELECT id, question, options, answer FROM instructions ORDER BY id"),
        db.fetchall("SELECT image_id, text FROM captions WHERE is_current ORDER BY 1"),
    )


def _dialog(qtbot, window, find, repl, regex=False):
    window.bulk.open_replace(selection_first=False)
    dialog = window.bulk.replace_dialog
    qtbot.addWidget(dialog)
    dialog.find.setText(find)
    dialog.replacement.setText(repl)
    dialog.regex.setChecked(regex)
    return dialog


def test_preview_lists_every_change_then_one_undo(qtbot, window):
    db = window.project.db
    before = _texts(db)
    dialog = _dialog(qtbot, window, "disc", "circle")
    assert not dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.planned, timeout=10000):
        qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    expected = replace.plan(db, ImageQuery(), "disc", "circle")
    shown = [
        (dialog.model.index(r, 0).data(), dialog.model.index(r, 2).data(),
         dialog.model.index(r, 3).data())
        for r in range(dialog.model.rowCount())
    ]  # fmt: skip
    assert len(shown) == len(expected.edits) > 12
    for (image, old, new), e in zip(shown, expected.edits, strict=True):
        assert image == f"#{e.hit.image_id}" and "disc" in old and "circle" in new
    assert dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.applied, timeout=10000):
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert db.scalar("SELECT count(*) FROM instructions WHERE contains(question, 'disc')") == 0
    assert (
        db.scalar("SELECT count(*) FROM captions WHERE is_current AND contains(text, 'disc')") == 0
    )
    assert window.history.stack.count() == 1
    dialog.close()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(window.is_idle, timeout=10000)  # undo runs on the bulk worker
    assert _texts(db) == before
    window.on_redo()
    qtbot.waitUntil(window.is_idle, timeout=10000)
    assert db.scalar("SELECT count(*) FROM instructions WHERE contains(question, 'circle')") > 0


def test_editing_the_search_makes_the_preview_stale(qtbot, window):
    dialog = _dialog(qtbot, window, "disc", "circle")
    with qtbot.waitSignal(dialog.planned, timeout=10000):
        dialog.preview()
    assert dialog.apply_button.isEnabled()
    dialog.replacement.setText("ring")
    assert not dialog.apply_button.isEnabled() and dialog.model.rowCount() == 0


def test_bad_regex_and_no_match_are_messages(qtbot, window):
    dialog = _dialog(qtbot, window, "(unclosed", "x", regex=True)
    dialog.preview()
    qtbot.waitUntil(
        lambda: "not a valid regular expression" in dialog.summary.text(), timeout=10000
    )
    assert not dialog.apply_button.isEnabled()
    dialog.find.setText("zzqqxx")
    with qtbot.waitSignal(dialog.planned, timeout=10000):
        dialog.preview()
    assert dialog.model.rowCount() == 0 and not dialog.apply_button.isEnabled()


def test_scope_is_the_selection_from_the_menu(qtbot, window):
    window.grid.select_row(0)
    window.bulk.open_replace(selection_first=True)
    dialog = window.bulk.replace_dialog
    qtbot.addWidget(dialog)
    assert dialog.scope.currentData() == "selection"
    dialog.find.setText("disc")
    dialog.replacement.setText("circle")
    with qtbot.waitSignal(dialog.planned, timeout=10000):
        dialog.preview()
    first = window.model.image_id(0)
    assert {e.hit.image_id for e in dialog.plan.edits} == {first}


def test_the_filter_type_narrows_the_instructions(qtbot, window):
    window.filters.update(itype="judgement")
    qtbot.waitUntil(lambda: window.model.query.itype == "judgement", timeout=5000)
    dialog = _dialog(qtbot, window, "the", "THE")
    for name, box in dialog.fields.items():
        box.setChecked(name == "question")
    with qtbot.waitSignal(dialog.planned, timeout=10000):
        dialog.preview()
    assert dialog.plan.valid
    assert {e.hit.itype for e in dialog.plan.edits} == {"judgement"}


def test_a_typed_edit_is_saved_before_a_bulk_action(qtbot, window):
    """The pane's open field is saved first, so the bulk step never races an unsaved edit."""
    window.grid.select_row(0)
    qtbot.waitUntil(lambda: window.review.image_id == window.model.image_id(0), timeout=5000)
    field = window.review.caption.text
    field.setFocus()
    field.setPlainText("Typed just before a bulk reject.")
    with qtbot.waitSignal(window.bulk.done, timeout=10000):
        window.bulk.decide("rejected")
    db = window.project.db
    image = window.model.image_id(0)
    assert db.scalar("SELECT text FROM captions WHERE image_id = ? AND is_current", [image]) == (
        "Typed just before a bulk reject."
    )
    assert db.scalar("SELECT status FROM images WHERE id = ?", [image]) == "rejected"
