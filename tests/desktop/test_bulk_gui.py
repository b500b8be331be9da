"""Selection and bulk work in the real window: Shift/Ctrl clicks and a drag select tiles,
the context menu decides, moves and deletes them (to the trash), one Ctrl+Z undoes each."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from core.store import trash as store_trash

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
LEFT = Qt.MouseButton.LeftButton


def _click(qtbot, window, row, modifier=Qt.KeyboardModifier.NoModifier):
    grid = window.grid
    center = grid.visualRect(window.model.index(row)).center()
    qtbot.mouseClick(grid.viewport(), LEFT, modifier, center)


def _selected(window):
    return sorted(int(i) for i in window.bulk.selection.ids())


def _ids(window, rows):
    return sorted(window.model.image_id(r) for r in rows)


def _action(menu, name):
    for action in menu.actions():
        if action.objectName() == name:
            return action
        sub = action.menu()
        if sub is not None:
            found = _action(sub, name)
            if found is not None:
                return found
    return None


def _trigger(qtbot, window, name):
    menu = window.bulk.build_menu()
    action = _action(menu, name)
    assert action is not None and action.isEnabled(), name
    with qtbot.waitSignal(window.bulk.done, timeout=10000):
        action.trigger()
    qtbot.waitUntil(window.is_idle, timeout=5000)


def _statuses(window, ids):
    rows = window.project.db.fetchall(
        "SELECT id, status FROM images WHERE id IN (SELECT unnest(?)) ORDER BY id", [ids]
    )
    return dict(rows)


def test_ctrl_and_shift_clicks_select(qtbot, window):
    _click(qtbot, window, 1)
    assert _selected(window) == _ids(window, [1])
    _click(qtbot, window, 3, CTRL)
    assert _selected(window) == _ids(window, [1, 3])
    _click(qtbot, window, 6, SHIFT)  # a range from the last click, the earlier pick kept
    assert _selected(window) == _ids(window, [1, 3, 4, 5, 6])
    _click(qtbot, window, 4, CTRL)  # Ctrl toggles one off
    assert _selected(window) == _ids(window, [1, 3, 5, 6])
    _click(qtbot, window, 2)  # a plain click starts over
    assert _selected(window) == _ids(window, [2])


def test_drag_selects_a_rubber_band(qtbot, window):
    grid, vp = window.grid, window.grid.viewport()
    start = grid.visualRect(window.model.index(0)).center()
    end = grid.visualRect(window.model.index(2)).center()
    qtbot.mousePress(vp, LEFT, Qt.KeyboardModifier.NoModifier, start)
    for point in (start + (end - start) / 2, end):
        move = QMouseEvent(QEvent.Type.MouseMove, QPointF(point), QPointF(vp.mapToGlobal(point)),
                           Qt.MouseButton.NoButton, LEFT, Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(vp, move)
    qtbot.mouseRelease(vp, LEFT, Qt.KeyboardModifier.NoModifier, end)
    picked = _selected(window)
    assert set(_ids(window, [0, 2])) <= set(picked) and len(picked) >= 3


def test_select_all_matching_the_filter(qtbot, window):
    window.filters.update(domain="art")
    qtbot.waitUntil(lambda: window.model.query.domain == "art", timeout=5000)
    window.bulk.select_all()
    art = [r[0] for r in window.project.db.fetchall("SELECT id FROM images WHERE domain='art'")]
    assert window.bulk.selection.is_all()
    assert _selected(window) == sorted(art)


def test_bulk_reject_then_one_undo(qtbot, window):
    _click(qtbot, window, 0)
    _click(qtbot, window, 4, SHIFT)
    ids = _selected(window)
    before = _statuses(window, ids)
    items_before = window.project.db.fetchall("SELECT id, status FROM instructions ORDER BY id")
    _trigger(qtbot, window, "decide_rejected")
    assert set(_statuses(window, ids).values()) == {"rejected"}
    assert window.history.stack.count() == 1
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(window.is_idle, timeout=10000)  # undo runs on the bulk worker
    assert _statuses(window, ids) == before
    assert window.project.db.fetchall("SELECT id, status FROM instructions ORDER BY id") == (
        items_before
    )


def test_move_to_domain_from_the_menu(qtbot, window):
    _click(qtbot, window, 0)
    _click(qtbot, window, 2, SHIFT)
    ids = _selected(window)
    _trigger(qtbot, window, "move_street")
    db = window.project.db
    domains = db.fetchall(
        "SELECT DISTINCT domain FROM images WHERE id IN (SELECT unnest(?))", [ids]
    )
    assert domains == [("street",)]
    window.on_undo()
    qtbot.waitUntil(window.is_idle, timeout=10000)
    assert db.scalar("SELECT count(*) FROM images WHERE domain = 'street'") == 4 - 1  # as before


def test_delete_to_trash_undo_redo(qtbot, window):
    db = window.project.db
    n = db.scalar("SELECT count(*) FROM images")
    _click(qtbot, window, 1)
    _click(qtbot, window, 2, CTRL)
    ids = _selected(window)
    _trigger(qtbot, window, "delete")
    assert db.scalar("SELECT count(*) FROM images") == n - 2
    qtbot.waitUntil(lambda: window.model.rowCount() == n - 2, timeout=5000)
    qtbot.waitUntil(window.is_idle, timeout=5000)
    assert window.grid.currentIndex().row() == 2  # the place is kept, not back to the top
    [batch] = store_trash.list_trash(db)
    assert sorted(store_trash.trashed_image_ids(db, batch.id)) == ids
    window.on_undo()
    qtbot.waitUntil(window.is_idle, timeout=10000)
    assert db.scalar("SELECT count(*) FROM images") == n
    assert store_trash.list_trash(db) == []
    qtbot.waitUntil(lambda: window.model.rowCount() == n, timeout=5000)
    window.on_redo()
    qtbot.waitUntil(window.is_idle, timeout=10000)
    assert db.scalar("SELECT count(*) FROM images") == n - 2
    assert len(store_trash.list_trash(db)) == 1


def test_delete_key_on_the_grid(qtbot, window):
    db = window.project.db
    n = db.scalar("SELECT count(*) FROM images")
    _click(qtbot, window, 0)
    window.grid.setFocus()
    with qtbot.waitSignal(window.bulk.done, timeout=10000):
        qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    assert db.scalar("SELECT count(*) FROM images") == n - 1


def test_context_menu_lists_every_action(qtbot, window):
    _click(qtbot, window, 0)
    menu = window.bulk.build_menu()
    for name in ("decide_accepted", "decide_rejected", "decide_needs_fix", "move_art",
                 "stage_check", "replace", "delete", "select_all"):  # fmt: skip
        assert _action(menu, name) is not None, name


def test_run_a_stage_on_the_selection(qtbot, window):
    db = window.project.db
    db.execute("UPDATE instructions SET status = 'new', check_flags = NULL")  # never checked
    _click(qtbot, window, 0)
    _click(qtbot, window, 1, CTRL)
    ids = _selected(window)
    _action(window.bulk.build_menu(), "stage_check").trigger()
    panel = window.panels["jobs"]
    assert window.tabs.currentWidget() is panel
    assert panel.form.stage.currentData() == "check"
    assert list(panel.form.current_scope().image_ids) == ids
    panel.form.request_start()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=20000)
    checked = db.fetchall(
        "SELECT DISTINCT image_id FROM instructions WHERE status <> 'new' ORDER BY 1"
    )
    assert [r[0] for r in checked] == ids


def test_sidebar_add_rename_delete_domain(qtbot, window):
    actions, db = window.domain_actions, window.project.db
    menu = actions.build_menu("art")
    assert {a.objectName() for a in menu.actions()} >= {"domainAdd", "domainRename", "domainDelete"}
    dialog = actions.ask_add()
    dialog.name.setText("food")
    dialog.title.setText("Food and drink")
    dialog.accept()
    assert db.scalar("SELECT title FROM domains WHERE name = 'food'") == "Food and drink"
    titles = [window.sidebar.list.item(i).text() for i in range(window.sidebar.list.count())]
    assert "Food and drink" in titles
    assert not actions.add("food")  # a second one is refused with the reason
    n_art = db.scalar("SELECT count(*) FROM images WHERE domain = 'art'")
    window.filters.update(domain="art")
    dialog = actions.ask_rename("art")
    dialog.name.setText("paintings")
    dialog.accept()
    assert db.scalar("SELECT count(*) FROM images WHERE domain = 'paintings'") == n_art
    assert window.filters.query.domain == "paintings"
    dialog = actions.ask_delete("paintings")
    dialog.target.setCurrentIndex(dialog.target.findData("food"))
    dialog.accept()
    assert db.scalar("SELECT count(*) FROM domains WHERE name = 'paintings'") == 0
    assert db.scalar("SELECT count(*) FROM images WHERE domain = 'food'") == n_art


def test_trash_dialog_restores_and_empties(qtbot, window):
    from desktop.views.trash_dialog import TrashDialog

    db = window.project.db
    n = db.scalar("SELECT count(*) FROM images")
    _click(qtbot, window, 0)
    _click(qtbot, window, 1, CTRL)
    _trigger(qtbot, window, "delete")
    dialog = TrashDialog(window)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 2).text() == "2"
    with qtbot.waitSignal(dialog.finished_work, timeout=10000):
        dialog.restore(dialog.chosen())
    assert db.scalar("SELECT count(*) FROM images") == n
    assert dialog.table.rowCount() == 0 and not dialog.restore_button.isEnabled()
    qtbot.waitUntil(lambda: window.is_idle() and window.model.rowCount() == n, timeout=10000)
    _click(qtbot, window, 0)
    path = db.scalar("SELECT path FROM images WHERE id = ?", [window.model.image_id(0)])
    _trigger(qtbot, window, "delete")
    dialog.reload()
    with qtbot.waitSignal(dialog.finished_work, timeout=10000):
        dialog.empty(dialog.chosen(), confirm=False)
    assert store_trash.list_trash(db) == []
    assert not (window.project.root / path).exists()
