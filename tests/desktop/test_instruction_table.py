"""The Items tab on the real window: paged rows, sort by risk, filters, the grid's keys
deciding items in the database, history, add by hand, the risk queue and its count, and
per-item regenerate / re-verify through the loopback server."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.store import quality, review
from core.store.item_table import UNDECIDED
from desktop.models.instruction_table import ROW_ROLE, SORT_COLUMN, InstructionTableModel
from tests.desktop.conftest import wait_idle
from tests.desktop.test_jobs_panel import add_loop_backend
from tests.fixtures_loopback import loopback  # noqa: F401  (fixture)
from tests.pipeline.scripted import reply

pytestmark = pytest.mark.gui


def risk_everything(db):
    ids = [r[0] for r in db.fetchall("SELECT id FROM instructions ORDER BY id")]
    quality.save_risk(db, [(i, round((i * 37 % 100) / 100, 2)) for i in ids])


@pytest.fixture
def items_tab(qtbot, window):
    risk_everything(window.project.db)
    panel = window.panels["items"]
    window.tabs.setCurrentIndex(window.tabs.indexOf(panel))
    panel.model.refresh()
    wait_idle(qtbot, window)
    panel.table.setFocus()
    return panel


def shown_ids(panel):
    model = panel.model
    ids = []
    for r in range(model.rowCount()):
        row = model.row(r)
        ids.append(row.id)
    return ids


def db_order(db, sql_order, where="true"):
    return [
        r[0] for r in db.fetchall(f"SELECT id FROM instructions WHERE {where} ORDER BY {sql_order}")
    ]


def test_pages_fill_in_as_the_table_scrolls(qtbot, window, monkeypatch):
    risk_everything(window.project.db)
    monkeypatch.setattr(InstructionTableModel, "PAGE", 5)
    model = InstructionTableModel(window.project)
    model.set_query(model.query, wait=True)
    expect = db_order(window.project.db, "risk DESC NULLS LAST, id DESC")
    assert model.rowCount() == len(expect) > 10
    assert model.cached_row(0).id == expect[0]
    assert model.cached_row(7) is None  # not read yet: asked for off the GUI thread
    qtbot.waitUntil(lambda: model.cached_row(7) is not None, timeout=5000)
    assert [model.cached_row(r).id for r in range(5, 10)] == expect[5:10]
    qtbot.waitUntil(lambda: not model.busy(), timeout=5000)
    assert model._ids is not None and model._ids.tolist() == expect  # positions from ids now
    model.shutdown()


def test_sort_by_risk_and_type_and_filters(qtbot, window, items_tab):
    db, panel = window.project.db, items_tab
    assert shown_ids(panel) == db_order(db, "risk DESC NULLS LAST, id DESC")
    header = panel.table.horizontalHeader()
    header.setSortIndicator(SORT_COLUMN["risk"], Qt.SortOrder.AscendingOrder)
    wait_idle(qtbot, window)
    assert shown_ids(panel) == db_order(db, "risk ASC NULLS LAST, id ASC")
    header.setSortIndicator(SORT_COLUMN["itype"], Qt.SortOrder.AscendingOrder)
    wait_idle(qtbot, window)
    assert shown_ids(panel) == db_order(db, "itype, id")
    panel.itype.setCurrentIndex(panel.itype.findData("judgement"))
    wait_idle(qtbot, window)
    assert shown_ids(panel) == db_order(db, "itype, id", "itype = 'judgement'")
    panel.flag.setCurrentIndex(panel.flag.findData("too_short"))
    wait_idle(qtbot, window)
    assert shown_ids(panel) == db_order(
        db, "itype, id", "itype = 'judgement' AND list_contains(check_flags, 'too_short')"
    )
    panel.flag.setCurrentIndex(0)
    panel.itype.setCurrentIndex(0)
    panel.risky.setChecked(True)
    wait_idle(qtbot, window)
    assert shown_ids(panel) == db_order(db, "itype, id", "risk >= 0.5")
    panel.risky.setChecked(False)
    panel.search.setText("square red")
    qtbot.waitUntil(lambda: panel.model.query.text == "square red", timeout=3000)
    wait_idle(qtbot, window)
    assert shown_ids(panel) == db_order(  # every word, in the question or an option
        db,
        "itype, id",
        "question ILIKE '%square%' AND (question ILIKE '%red%' OR list_contains(options, 'Red'))",
    )
    assert panel.count.text() == f"{len(shown_ids(panel))} items"


def test_common_word_shows_its_first_page_then_its_count(qtbot, window, items_tab, monkeypatch):
    """A word in most items: the table shows the first page with "N+ items" at once, then the
    exact count and every row once the ordered ids are read (core.store.item_pages)."""
    from core.store import item_pages

    db, panel = window.project.db, items_tab
    monkeypatch.setattr(item_pages, "DENSE_POSTINGS", 0)  # the small project counts as large
    monkeypatch.setattr(InstructionTableModel, "PAGE", 5)
    where = "question ILIKE '%disc%' OR answer ILIKE '%disc%'"
    expect = db_order(db, "risk DESC NULLS LAST, id DESC", where)
    assert len(expect) > 5
    landed = []
    panel.model.countLanded.connect(landed.append)
    panel.search.setText("disc")
    panel.model.set_query(panel.current_query(), wait=True)  # the first page, on this thread
    assert panel.model.counting() and panel.model.rowCount() == 5
    assert panel.count.text() == "5+ items (counting…)"
    assert [panel.model.cached_row(r).id for r in range(5)] == expect[:5]
    qtbot.waitUntil(lambda: landed == [len(expect)], timeout=5000)
    wait_idle(qtbot, window)
    assert not panel.model.counting() and shown_ids(panel) == expect
    assert panel.count.text() == f"{len(expect)} items"


def test_keys_decide_the_current_row_in_the_database(qtbot, window, items_tab):
    db, panel = window.project.db, items_tab
    panel.status.setCurrentIndex(panel.status.findData(UNDECIDED))
    wait_idle(qtbot, window)
    first, second, third = shown_ids(panel)[:3]
    table = panel.table
    qtbot.keyClick(table, Qt.Key.Key_A)  # the window's accept key, routed to the table
    qtbot.keyClick(table, Qt.Key.Key_R)
    qtbot.keyClick(table, Qt.Key.Key_N)  # skip one
    qtbot.keyClick(table, Qt.Key.Key_P)  # and back
    qtbot.keyClick(table, Qt.Key.Key_X)
    wait_idle(qtbot, window)
    status = dict(db.fetchall("SELECT id, status FROM instructions"))
    assert [status[first], status[second], status[third]] == ["accepted", "rejected", "needs_fix"]
    # the rows show it in place; they stay where they were
    rows = [panel.model.row(r) for r in range(3)]
    assert [(r.id, r.status) for r in rows] == [
        (first, "accepted"),
        (second, "rejected"),
        (third, "needs_fix"),
    ]
    # one undo step per decision, through the window's history
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert db.scalar("SELECT status FROM instructions WHERE id = ?", [third]) != "needs_fix"
    qtbot.waitUntil(lambda: panel.model.row(2).status != "needs_fix", timeout=3000)


def test_history_lists_the_revisions(qtbot, window, items_tab):
    db, panel = window.project.db, items_tab
    item = panel.current_row()
    review.edit_instruction(db, item.id, "question", "Is it a changed question?", author="ann")
    review.set_instruction_status(db, [item.id], "accepted", author="bob")
    qtbot.keyClick(panel.table, Qt.Key.Key_H)
    dialog = panel.history_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    cells = [
        [dialog.table.item(r, c).text() for c in range(5)] for r in range(dialog.table.rowCount())
    ]
    assert [c[1:] for c in cells] == [
        ["ann", "question", item.question, "Is it a changed question?"],
        ["bob", "status", "Needs review" if item.status == "needs_review" else
         {"ok": "Passed checks", "new": "New"}[item.status], "Accepted"],
    ]  # fmt: skip
    dialog.close()


def test_add_by_hand_refuses_then_adds(qtbot, window, items_tab):
    db, panel = window.project.db, items_tab
    image = panel.current_row().image_id
    before = db.scalar("SELECT count(*) FROM instructions WHERE image_id = ?", [image])
    panel.buttons["add"].click()
    dialog = panel.add_dialog
    dialog.itype.setCurrentIndex(dialog.itype.findData("multiple_choice"))
    assert dialog.options[0].isVisibleTo(dialog)
    dialog.question.setPlainText("Which colour is the disc?")
    for edit, text in zip(dialog.options, ["Red", "White", "Blue", "Green"], strict=True):
        edit.setText(text)
    dialog.answer.setPlainText("E")
    dialog.save()
    assert dialog.isVisible() and "A, B, C, D" in dialog.error.text()  # kept, with the reason
    dialog.answer.setPlainText("b")
    dialog.save()
    assert not dialog.isVisible()
    row = db.fetchone(
        "SELECT origin, status, answer, options FROM instructions WHERE image_id = ? "
        "ORDER BY id DESC LIMIT 1",
        [image],
    )
    assert row == ("manual", "accepted", "B", ["Red", "White", "Blue", "Green"])
    assert db.scalar("SELECT count(*) FROM instructions WHERE image_id = ?", [image]) == before + 1
    wait_idle(qtbot, window)
    assert panel.model.rowCount() == db.scalar("SELECT count(*) FROM instructions")


def test_risk_queue_walks_riskiest_first_and_counts_what_is_left(qtbot, window):
    db = window.project.db
    risk_everything(db)
    window.risk_queue.count_now()
    wait_idle(qtbot, window)
    undecided = "status IN ('new', 'ok', 'needs_review')"
    order = db_order(db, "risk DESC NULLS LAST, image_id, id", undecided)
    left = db.scalar(f"SELECT count(*) FROM instructions WHERE risk >= 0.5 AND {undecided}")
    assert window.risk_queue.left == left
    assert window.risk_queue.label.text().startswith(f"{left} risky items left")
    grid = window.grid
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Q)  # review next
    wait_idle(qtbot, window)
    assert window.review.current_item_id() == order[0]
    image_of = dict(db.fetchall("SELECT id, image_id FROM instructions"))
    assert window.review.image_id == image_of[order[0]]
    qtbot.keyClick(grid, Qt.Key.Key_Q)
    wait_idle(qtbot, window)
    assert window.review.current_item_id() == order[1]
    qtbot.keyClick(grid, Qt.Key.Key_R)  # reject it: the count follows
    qtbot.waitUntil(lambda: window.risk_queue.left == left - 1, timeout=5000)
    qtbot.keyClick(grid, Qt.Key.Key_Q)
    wait_idle(qtbot, window)
    assert window.review.current_item_id() == order[2]


def test_cards_narrow_to_the_filter_and_mark_hits(qtbot, window):
    from desktop.views.card_filter import HIT_COLOR

    window.filters.update(text="square")
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.review.image_id is not None, timeout=3000)
    window.grid.select_row(window.model.row_of(5) or 0)
    wait_idle(qtbot, window)
    db, image = window.project.db, window.review.image_id
    square = [r[0] for r in db.fetchall(
        "SELECT id FROM instructions WHERE image_id = ? AND question ILIKE '%square%' ORDER BY id",
        [image])]  # fmt: skip
    total = db.scalar("SELECT count(*) FROM instructions WHERE image_id = ?", [image])
    assert sorted(c.item.id for c in window.review.cards) == square
    note = window.review.card_filter
    assert note.isVisibleTo(window.review) == (total > len(square))
    marks = [s for c in window.review.cards for s in c.question.extraSelections()]
    assert marks and all(s.format.background().color().name() == HIT_COLOR for s in marks)
    assert all(s.cursor.selectedText().lower() == "square" for s in marks)
    note.button.click()  # show all
    wait_idle(qtbot, window)
    assert len(window.review.cards) == total


@pytest.fixture
def loop_server(loopback):  # noqa: F811
    loopback.reply = reply
    add_loop_backend(loopback)
    return loopback


def test_regenerate_and_reverify_one_item(qtbot, window, items_tab, loop_server):
    db, panel = window.project.db, items_tab
    target = db.fetchone(
        "SELECT n.id, n.question FROM instructions n JOIN captions c ON c.image_id = n.image_id "
        "WHERE n.itype = 'judgement' ORDER BY n.id LIMIT 1"
    )
    others = db.fetchall(
        "SELECT id, question FROM instructions WHERE id <> ? ORDER BY id", [target[0]]
    )
    panel.select_row(panel.model.row_of(target[0]))
    assert panel.current_row().id == target[0]
    panel.buttons["regenerate"].click()
    qtbot.waitUntil(lambda: not window.item_runs.busy(), timeout=30000)
    question, status, origin = db.fetchone(
        "SELECT question, status, origin FROM instructions WHERE id = ?", [target[0]]
    )
    assert question != target[1] and status in ("ok", "needs_review")  # checked after
    assert db.fetchall("SELECT id, question FROM instructions WHERE id <> ? ORDER BY id",
                       [target[0]]) == others  # fmt: skip
    fields = {r.field for r in review.revisions_for(db, "instructions", target[0])}
    assert {"question", "status"} <= fields
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: panel.model.row(panel.model.row_of(target[0])).question == question,
                    timeout=5000)  # fmt: skip
    sent = loop_server.stats.requests
    panel.buttons["reverify"].click()
    qtbot.waitUntil(lambda: not window.item_runs.busy(), timeout=30000)
    answer = db.scalar("SELECT verify_answer FROM instructions WHERE id = ?", [target[0]])
    assert answer is not None
    assert loop_server.stats.requests > sent  # asked again, not answered from a cache
    index = panel.model.index(panel.model.row_of(target[0]), 0)
    assert panel.model.data(index, ROW_ROLE).id == target[0]
