"""The keyboard review flow on the real window: decide, edit, undo, redo — all in the database."""

import pytest
from PySide6.QtCore import Qt

from core.store import browse

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def _items(window, image_id):
    return {i.id: i for i in browse.instructions_for_image(window.project.db, image_id)}


def _revisions(window):
    return window.project.db.fetchall(
        "SELECT tbl, row_id, field, old, new FROM revisions ORDER BY id"
    )


def _settle(qtbot):
    qtbot.wait(30)  # the pane redraws after the current event


def _go_to(qtbot, window, row):
    window.grid.select_row(row)
    window.grid.setFocus()
    _settle(qtbot)
    assert window.review.image_id == window.model.image_id(row)


def test_keyboard_decisions_and_undo_redo(qtbot, window):
    grid = window.grid
    first = window.model.image_id(0)
    qtbot.keyClick(grid, Qt.Key.Key_J)
    _settle(qtbot)
    assert window.review.image_id == window.model.image_id(1)
    qtbot.keyClick(grid, Qt.Key.Key_J)
    qtbot.keyClick(grid, Qt.Key.Key_K)
    qtbot.keyClick(grid, Qt.Key.Key_K)
    assert window.review.image_id != first  # not loaded yet: the pane follows after the keys
    qtbot.keyClick(grid, Qt.Key.Key_N)  # a command acts on the image the keys stopped on
    assert window.review.image_id == first

    _go_to(qtbot, window, 4)  # five instructions
    image = window.review.image_id
    before = {k: v.status for k, v in _items(window, image).items()}
    ids = [c.item.id for c in window.review.cards]
    assert window.review.current_item_id() == ids[0]
    qtbot.keyClick(grid, Qt.Key.Key_A)  # accept the first, move to the second
    qtbot.keyClick(grid, Qt.Key.Key_R)  # reject the second
    qtbot.keyClick(grid, Qt.Key.Key_N)  # skip the third
    qtbot.keyClick(grid, Qt.Key.Key_X)  # the fourth needs a fix
    _settle(qtbot)
    statuses = {k: v.status for k, v in _items(window, image).items()}
    assert [statuses[i] for i in ids[:4]] == ["accepted", "rejected", before[ids[2]], "needs_fix"]
    assert window.review.current_item_id() == ids[4]
    assert [c.buttons["accepted"].isChecked() for c in window.review.cards][:2] == [True, False]
    assert [r[1:] for r in _revisions(window)] == [
        (ids[0], "status", before[ids[0]], "accepted"),
        (ids[1], "status", before[ids[1]], "rejected"),
        (ids[3], "status", before[ids[3]], "needs_fix"),
    ]

    qtbot.keyClick(grid, Qt.Key.Key_A, SHIFT)  # the image, and its undecided items: next image
    _settle(qtbot)
    assert browse.image_detail(window.project.db, image).status == "accepted"
    after = {k: v.status for k, v in _items(window, image).items()}
    assert after[ids[1]] == "rejected" and after[ids[2]] == "accepted"
    assert window.review.image_id == window.model.image_id(5)

    qtbot.keyClick(grid, Qt.Key.Key_Z, CTRL)  # undo the image decision: shown again
    _settle(qtbot)
    assert browse.image_detail(window.project.db, image).status == "new"
    assert {k: v.status for k, v in _items(window, image).items()} == statuses
    assert window.review.image_id == image
    qtbot.keyClick(grid, Qt.Key.Key_Z, CTRL)  # and the needs-fix
    _settle(qtbot)
    assert _items(window, image)[ids[3]].status == before[ids[3]]
    qtbot.keyClick(grid, Qt.Key.Key_Z, CTRL | SHIFT)  # redo
    _settle(qtbot)
    assert _items(window, image)[ids[3]].status == "needs_fix"
    assert window.history.stack.count() == 4 and window.history.stack.index() == 3
    # the grid tile shows the new status after the edits
    assert window.model.row(4).status == "new"


def test_edit_question_by_keyboard_writes_revision_and_undoes(qtbot, window):
    _go_to(qtbot, window, 1)
    card = window.review.cards[0]
    old = card.item.question
    qtbot.keyClick(window.grid, Qt.Key.Key_E)
    assert card.question.hasFocus()
    qtbot.keyClicks(card.question, "Is the disc white?")  # replaces the selected text
    qtbot.keyClick(card.question, Qt.Key.Key_Return, CTRL)
    _settle(qtbot)
    item_id = card.item.id
    assert _items(window, window.review.image_id)[item_id].question == "Is the disc white?"
    assert _revisions(window) == [("instructions", item_id, "question", old, "Is the disc white?")]
    assert card.question.hasFocus()  # redrawn in place: the cursor stays
    qtbot.keyClick(card.question, Qt.Key.Key_Escape)
    assert window.grid.hasFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)
    _settle(qtbot)
    assert _items(window, window.review.image_id)[item_id].question == old
    assert window.review.cards[0].question.toPlainText() == old
    assert len(_revisions(window)) == 2


def test_focus_out_saves_and_tab_moves_between_fields(qtbot, window):
    _go_to(qtbot, window, 1)
    mc = next(c for c in window.review.cards if c.item.itype == "multiple_choice")
    mc.options[3].setFocus()
    mc.options[3].selectAll()
    qtbot.keyClicks(mc.options[3], "Purple")
    qtbot.keyClick(mc.options[3], Qt.Key.Key_Tab)  # focus moves on: the options are saved
    _settle(qtbot)
    assert mc.answer.hasFocus()
    assert _items(window, window.review.image_id)[mc.item.id].options[3] == "Purple"


def test_invalid_answer_is_refused_with_a_message(qtbot, window):
    _go_to(qtbot, window, 0)
    card = window.review.cards[0]  # a judgement
    card.answer.setFocus()
    card.answer.selectAll()
    qtbot.keyClicks(card.answer, "perhaps")
    qtbot.keyClick(card.answer, Qt.Key.Key_Return, CTRL)
    _settle(qtbot)
    assert "yes or no" in window.review.error.text() and window.review.error.isVisible()
    assert card.answer.toPlainText() == "perhaps" and card.answer.held  # kept, to be fixed
    assert _items(window, window.review.image_id)[card.item.id].answer == "yes"
    assert _revisions(window) == []
    assert "yes or no" in window.statusBar().currentMessage()
    qtbot.keyClick(card.answer, Qt.Key.Key_Escape)  # given up: the stored value is back
    assert card.answer.toPlainText() == "yes" and not card.answer.held
    assert not window.review.error.isVisible()


def test_caption_edit_creates_version_and_undo_restores(qtbot, window):
    _go_to(qtbot, window, 0)
    image = window.review.image_id
    editor = window.review.caption
    qtbot.keyClick(window.grid, Qt.Key.Key_C)
    assert editor.text.hasFocus()
    editor.text.selectAll()
    qtbot.keyClicks(editor.text, "A red square and a white disc.")
    qtbot.keyClick(
        editor.text, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier
    )  # next image: saved
    _settle(qtbot)
    versions = browse.caption_versions(window.project.db, image)
    assert [(v.version, v.is_current) for v in versions] == [(2, True), (1, False)]
    assert versions[0].text == "A red square and a white disc."
    assert window.review.image_id != image
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)
    _settle(qtbot)
    assert window.review.image_id == image  # undo shows the image it changed
    assert [v.is_current for v in browse.caption_versions(window.project.db, image)] == [
        False,
        True,
    ]
    assert editor.text.toPlainText() == versions[1].text
    # bring version 2 back from the versions list
    editor.version_box.setCurrentIndex(0)
    assert editor.use_button.isVisible()
    editor.use_button.click()
    _settle(qtbot)
    assert browse.caption_versions(window.project.db, image)[0].is_current


def test_flags_and_verify_disagreement_are_shown(qtbot, window):
    db = window.project.db
    row = db.fetchone(
        "SELECT image_id, id FROM instructions WHERE verify_agree = false AND len(check_flags) > 0 LIMIT 1"
    )
    window.grid.select_row(window.model.row_of(row[0]))
    _settle(qtbot)
    card = next(c for c in window.review.cards if c.item.id == row[1])
    notes = card.notes.text()
    qtbot.waitUntil(card.notes.isVisible)  # a new card is shown by a queued event
    for flag in card.item.check_flags:
        assert flag in notes
    assert "Verifiers: image ≠" in notes and f"<b>{card.item.verify_answer}</b>" in notes


def test_viewer_zoom_fit_and_actual_size(qtbot, window):
    viewer = window.review.viewer
    qtbot.waitUntil(lambda: not viewer.scene().sceneRect().isEmpty())
    fitted = viewer.zoom_level()
    qtbot.keyClick(window.grid, Qt.Key.Key_Plus)
    assert viewer.zoom_level() == pytest.approx(fitted * 1.25)
    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    assert viewer.zoom_level() == 1.0
    qtbot.keyClick(window.grid, Qt.Key.Key_F)
    assert viewer.zoom_level() == pytest.approx(fitted)
    assert viewer.scene().sceneRect().width() == 640  # the full picture, not the thumbnail


def test_shortcuts_dialog_lists_every_command(qtbot, window):
    from desktop.views.shortcuts import SHORTCUTS

    qtbot.keyClick(window.grid, Qt.Key.Key_F1)
    dialog = window.shortcuts_dialog
    assert dialog.isVisible()
    assert dialog.table.rowCount() == len(SHORTCUTS)
    listed = {dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert {"Next image", "Accept instruction, go to the next", "Undo"} <= listed
    for s in SHORTCUTS:  # every listed command is a real action with those keys
        action = window.actions_by_name[s.name]
        assert [k.toString() for k in action.shortcuts()][: len(s.keys)]
    dialog.close()
