"""The window's keyboard commands and the menus they sit in: one QAction per entry of
desktop.views.shortcuts.SHORTCUTS, bound to the `on_<name>` method of the same name, plus
Quit and the actions panels register (desktop.panels.ACTIONS).

A mixin of MainWindow: the commands are what a key or a menu entry does, a kind of its own
apart from building the window and reacting to its models, and tests and benchmarks call them
as the window's methods (`window.on_undo()`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from desktop import panels
from desktop.strings import N_, tr
from desktop.views.shortcuts import SHORTCUTS, ShortcutsDialog, key_sequences

MENUS = (N_("File"), N_("Edit"), N_("Review"), N_("View"), N_("Tools"), N_("Help"))
# Menu placement of the keyboard commands (desktop.views.shortcuts.SHORTCUTS).
MENU_OF_GROUP = {
    "Navigate": "Review",
    "Decide": "Review",
    "Edit": "Edit",
    "View": "View",
    "Project": "File",
    "Help": "Help",
}


class WindowCommands:
    """Needs the window's menus, actions_by_name, review, grid, tabs, filter_bar, history,
    risk_queue, project, refresh_library and show_changes."""

    def _build_actions(self) -> None:
        for s in SHORTCUTS:
            action = QAction(tr(s.text), self)
            action.setShortcuts(key_sequences(s))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(getattr(self, f"on_{s.name}"))
            self.addAction(action)
            self.menus[MENU_OF_GROUP.get(s.group, "Tools")].addAction(action)
            self.actions_by_name[s.name] = action
        quit_action = QAction(tr("Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.menus["File"].addSeparator()
        self.menus["File"].addAction(quit_action)
        for extra in sorted(panels.ACTIONS, key=lambda a: a.order):
            action = QAction(tr(extra.text), self)
            if extra.shortcut:
                action.setShortcut(QKeySequence(extra.shortcut))
            action.triggered.connect(lambda _c=False, run=extra.run: run(self))
            self.menu(extra.menu).addAction(action)

    def menu(self, name: str) -> QMenu:
        """The menu called `name`, created at the end of the bar when new."""
        if name not in self.menus:
            self.menus[name] = self.menuBar().addMenu(tr(name))
        return self.menus[name]

    def _review_target(self):
        """Where the review keys act: the current tab when it reviews items (the Items
        tab), else the review pane."""
        widget = self.tabs.currentWidget()
        return widget if hasattr(widget, "decide_item") else self.review

    # commands (named after desktop.views.shortcuts.SHORTCUTS) -------------------------
    def on_next_image(self) -> None:
        if not self.review.can_leave():
            return
        if not self.grid.step(1):
            self.statusBar().showMessage(tr("This is the last image of the list"), 3000)

    def on_previous_image(self) -> None:
        if not self.review.can_leave():
            return
        if not self.grid.step(-1):
            self.statusBar().showMessage(tr("This is the first image of the list"), 3000)

    def on_next_item(self) -> None:
        self._review_target().next_item(1)

    def on_previous_item(self) -> None:
        self._review_target().next_item(-1)

    def on_review_next(self) -> None:
        self.risk_queue.next()

    def on_focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.filter_bar.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_bar.search.selectAll()

    def on_focus_grid(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.grid.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def on_accept_item(self) -> None:
        self._review_target().decide_item("accepted")

    def on_reject_item(self) -> None:
        self._review_target().decide_item("rejected")

    def on_fix_item(self) -> None:
        self._review_target().decide_item("needs_fix")

    def on_accept_image(self) -> None:
        self.review.decide_image("accepted")

    def on_reject_image(self) -> None:
        self.review.decide_image("rejected")

    def on_fix_image(self) -> None:
        self.review.decide_image("needs_fix")

    def on_edit(self) -> None:
        self.review.begin_edit()

    def on_edit_caption(self) -> None:
        self.review.sync()
        self.review.caption.text.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def on_commit(self) -> None:
        self.review.commit_pending()

    def on_undo(self) -> None:
        self.review.commit_pending()
        self.history.undo()

    def on_redo(self) -> None:
        self.history.redo()

    def on_fit(self) -> None:
        self.review.viewer.fit()

    def on_zoom_in(self) -> None:
        self.review.viewer.zoom(1.25)

    def on_zoom_out(self) -> None:
        self.review.viewer.zoom(0.8)

    def on_actual_size(self) -> None:
        self.review.viewer.actual_size()

    def on_import_images(self) -> None:
        from desktop.views.import_dialog import ImportDialog

        dialog = ImportDialog(self.project, self)
        dialog.imported.connect(lambda s: (self.refresh_library(), self.show_changes(s.changes())))
        dialog.open()
        self.import_dialog = dialog

    def on_export_data(self) -> None:
        from desktop.views.export_dialog import ExportDialog

        self.export_dialog = ExportDialog(self.project, self)
        self.export_dialog.open()

    def on_show_shortcuts(self) -> None:
        self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.open()
