"""What the grid's context menu does to a selection: decide, move to a domain, delete to the
trash, run a stage, find and replace. Core does the work (core.store.bulk, core.trash) on a
worker thread; each action is one step on the window's undo stack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu

from core import trash
from core.errors import StudioError
from core.store import browse, bulk
from desktop.models.bulk_history import AsyncCommand, push_changes
from desktop.models.job_plan import stage_order
from desktop.panels import MenuAction, register_action
from desktop.strings import N_, domain_label, domain_title, label, tr, trn
from desktop.views.grid_selection import GridSelection
from desktop.workers.tasks import TaskRunner

DECISIONS = (
    ("accepted", N_("Accept")),
    ("rejected", N_("Reject")),
    ("needs_fix", N_("Needs fix")),
)


@dataclass(frozen=True)
class BulkEntry:
    """One plain entry of the context menu; submenus (domains, stages) are built each time."""

    name: str
    text: str
    run: str  # method of BulkActions


ENTRIES = (
    BulkEntry("replace", N_("Find and replace in the selection…"), "open_replace"),
    BulkEntry("delete", N_("Delete (to the trash)"), "delete"),
    BulkEntry("select_all", N_("Select all matching the filter"), "select_all"),
)


def _trash_command(actions: BulkActions, text: str, batch: trash.TrashBatch, ids):
    """A delete as an undo step: undo restores the trash entry, redo deletes again (without
    a second backup: the trash is its way back)."""
    project, author = actions.project, actions.window.history.author
    ids = np.asarray(ids, dtype=np.int64)
    state = {"batch": batch}

    def undo() -> None:
        trash.restore(project, state["batch"].id)

    def redo() -> None:
        state["batch"] = trash.delete_images(project, ids, author=author, backup=False)

    return AsyncCommand(actions.window.history, actions.runner, text, undo, redo,
                        actions.rows_changed)  # fmt: skip


class BulkActions(QObject):
    message = Signal(str)
    done = Signal(str)  # the name of the action that finished (tests wait on it)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.project = window.project
        self.grid = window.grid
        self.selection = GridSelection(self.grid)
        self.runner = TaskRunner(self, threads=1)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self.show_menu)
        self.delete_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.grid)
        self.delete_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_key.activated.connect(self.delete)
        self.menu: QMenu | None = None
        self.replace_dialog = None

    # the menu ------------------------------------------------------------------------
    def build_menu(self) -> QMenu:
        n = self.selection.count()
        menu = QMenu(self.grid)
        menu.setObjectName("gridMenu")
        head = menu.addAction(trn("{n:,} image selected", "{n:,} images selected", n))
        head.setEnabled(False)
        for status, text in DECISIONS:
            self._add(menu, f"decide_{status}", tr(text), lambda s=status: self.decide(s), n)
        move = menu.addMenu(tr("Move to domain"))
        move.setObjectName("moveMenu")
        for name, title, _count in browse.domain_entries(self.project.db):
            if name:
                self._add(move, f"move_{name}", domain_title(name, title),
                          lambda d=name: self.move(d), n)  # fmt: skip
        stages = menu.addMenu(tr("Run a stage on the selection"))
        stages.setObjectName("stageMenu")
        from desktop.views.job_start_form import STAGE_TITLES

        for stage in stage_order():
            self._add(stages, f"stage_{stage}", tr(STAGE_TITLES.get(stage, stage)),
                      lambda s=stage: self.run_stage(s), n)  # fmt: skip
        menu.addSeparator()
        for entry in ENTRIES:
            self._add(menu, entry.name, tr(entry.text), getattr(self, entry.run),
                      n if entry.name != "select_all" else 1)  # fmt: skip
        return menu

    def _add(self, menu: QMenu, name: str, text: str, run, n: int) -> QAction:
        action = menu.addAction(text)
        action.setObjectName(name)
        action.setEnabled(n > 0)
        action.triggered.connect(lambda _checked=False: run())
        return action

    def show_menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if index.isValid() and not self.grid.selectionModel().isSelected(index):
            self.grid.setCurrentIndex(index)  # right-click outside the selection picks that tile
        self.menu = self.build_menu()
        self.menu.popup(self.grid.viewport().mapToGlobal(pos))

    # actions -------------------------------------------------------------------------
    def _selected(self) -> np.ndarray | None:
        if not self.window.review.can_leave():  # save what is typed; a refused value waits
            return None
        ids = self.selection.ids()
        if not len(ids):
            self.message.emit(tr("Select images in the grid first"))
            return None
        return ids.copy()

    def _in_background(self, name: str, work, landed) -> None:
        def failed(exc: BaseException) -> None:
            if not isinstance(exc, StudioError):
                raise exc
            self.message.emit(str(exc))
            self.done.emit(name)

        def ok(result) -> None:
            landed(result)
            self.done.emit(name)

        self.runner.submit(lambda _report: work(), ok, failed)

    def decide(self, status: str) -> None:
        ids = self._selected()
        if ids is None:
            return
        db, author = self.project.db, self.window.history.author
        text = tr("{status}: {n:,} images", status=label("status", status), n=len(ids))

        def landed(changes) -> None:
            push_changes(self.window.history, self.runner, text, ids.tolist(), changes)
            self.message.emit(text)

        self._in_background(f"decide_{status}", lambda: bulk.decide_images(db, ids, status,
                                                                           author), landed)  # fmt: skip

    def move(self, domain: str) -> None:
        ids = self._selected()
        if ids is None:
            return
        db, author = self.project.db, self.window.history.author
        text = tr("Move {n:,} images to {domain}", n=len(ids), domain=domain_label(domain))

        def landed(changes) -> None:
            push_changes(self.window.history, self.runner, text, ids.tolist(), changes)
            self.window.refresh_library()
            self.message.emit(text)

        self._in_background("move", lambda: bulk.move_images(db, ids, domain, author), landed)

    def delete(self) -> None:
        ids = self._selected()
        if ids is None:
            return
        project, author = self.project, self.window.history.author
        text = tr("Delete {n:,} images", n=len(ids))

        def landed(batch) -> None:
            self.window.history.stack.push(_trash_command(self, text, batch, ids))
            self.rows_changed()
            self.message.emit(
                tr("Moved {n:,} images to the trash; Ctrl+Z brings them back", n=batch.n_images)
            )

        self._in_background(
            "delete", lambda: trash.delete_images(project, ids, author=author), landed
        )

    def rows_changed(self) -> None:
        """Images came or went: the grid's query runs again, the domain counts too, and the
        reviewer stays where they were (the row of the first image deleted, say)."""
        model, row = self.window.model, self.grid.currentIndex().row()
        if row >= 0:

            def back(_query, count: int) -> None:
                model.queryApplied.disconnect(back)
                if count:
                    self.grid.select_row(min(row, count - 1))

            model.queryApplied.connect(back)
        model.refresh()
        self.window.refresh_library()

    def run_stage(self, stage: str) -> None:
        """The Jobs tab, set to run `stage` again on the selection: the panel plans it with
        the stage registry, as any run; the user checks the options and presses Start."""
        if self._selected() is None:
            return
        self.window.show_panel("jobs")
        panel = self.window.panels["jobs"]
        panel.form.choose(stage=stage, scope="selection", force=True)
        n = self.selection.count()
        panel.say(tr("Ready to run on {n:,} selected images: check the options, then Start", n=n))

    def open_replace(self, selection_first: bool = True) -> None:
        from desktop.views.replace_dialog import ReplaceDialog

        self.replace_dialog = ReplaceDialog(self.window, selection_first=selection_first)
        self.replace_dialog.open()

    def select_all(self) -> None:
        self.selection.select_all()
        self.message.emit(
            trn("{n:,} image selected", "{n:,} images selected", self.selection.count())
        )

    def busy(self) -> bool:
        return self.runner.busy()


# the Edit menu ---------------------------------------------------------------------------
def _replace(window) -> None:
    window.bulk.open_replace(selection_first=False)


def _select_all(window) -> None:
    window.on_focus_grid()
    window.bulk.select_all()


def _trash(window) -> None:
    from desktop.views.trash_dialog import TrashDialog

    window.trash_dialog = TrashDialog(window)
    window.trash_dialog.open()


register_action(MenuAction("Edit", N_("Trash…"), _trash, order=22))
register_action(MenuAction("Edit", N_("Find and replace…"), _replace, shortcut="Ctrl+H", order=20))
register_action(MenuAction("Edit", N_("Select all matching the filter"), _select_all,
                           shortcut="Ctrl+Shift+A", order=21))  # fmt: skip
