"""The studio's window: domains, filters and the grid on the left, the review pane on the
right, other panels as tabs or docks from desktop.panels, every command on the keyboard (the
commands and their menus: desktop.window_commands)."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.store import browse
from desktop import panels
from desktop.models.edits import EditHistory
from desktop.models.filter_state import FilterState
from desktop.models.image_list import ImageListModel
from desktop.strings import tr, trn
from desktop.views.filter_bar import FilterBar
from desktop.views.grid import ImageGrid
from desktop.views.project_menu import install_project_menu
from desktop.views.review_pane import ReviewPane
from desktop.views.risk_queue import RiskQueue
from desktop.views.sidebar import DomainSidebar
from desktop.window_commands import MENUS, WindowCommands
from desktop.workers.item_runs import ItemRuns
from desktop.workers.tasks import TaskRunner
from desktop.workers.thumbnails import ThumbnailLoader

DOCK_AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}


# How long a worker thread may hold the GIL before the GUI thread gets it (Python's default is
# 5 ms). A repaint calls into Python for every cell, each call waiting up to one interval while
# a check or a page read runs on a worker: at 5 ms that adds up to stalls of seconds.
GIL_SWITCH_INTERVAL_S = 0.0005


class MainWindow(WindowCommands, QMainWindow):
    def __init__(self, project, parent=None):
        super().__init__(parent)
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        self.project = project
        self.session = None  # the ProjectSession that opened it (desktop.project_session)
        self.setWindowTitle(tr("MMInstruct Studio — {name}", name=project.name))
        self.thumbs = ThumbnailLoader(self)
        self.history = EditHistory(project.db, self)
        self.filters = FilterState(self)
        self.model = ImageListModel(project, self.thumbs, self)
        self.background = TaskRunner(self, threads=1)
        self.discard_box: QMessageBox | None = None  # asks before a refused value is lost
        self._shut_down = False

        self.sidebar = DomainSidebar(self)
        self.filter_bar = FilterBar(self)
        self.grid = ImageGrid(self)
        self.grid.setObjectName("imageGrid")
        self.grid.setModel(self.model)
        self.review = ReviewPane(project, self.history, self.thumbs, self)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.setObjectName("browseSplit")  # named: its sizes are remembered per project
        split.addWidget(self.sidebar)
        split.addWidget(self.grid)
        split.addWidget(self.review)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 4)
        split.setSizes([200, 540, 700])
        browse_tab = QWidget(self)
        browse_layout = QVBoxLayout(browse_tab)
        browse_layout.setContentsMargins(0, 0, 0, 0)
        browse_layout.addWidget(self.filter_bar)
        browse_layout.addWidget(split, 1)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("tabs")
        self.tabs.addTab(browse_tab, tr("Browse && review"))
        self.setCentralWidget(self.tabs)
        self.count_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.count_label)
        self.risk_queue = RiskQueue(project, self)
        self.statusBar().addPermanentWidget(self.risk_queue.label)
        self.item_runs = ItemRuns(self, self)

        # Keyed by the English name, which panels and actions use (desktop.panels.MenuAction).
        self.menus: dict[str, QMenu] = {name: self.menuBar().addMenu(tr(name)) for name in MENUS}
        self.actions_by_name: dict[str, QAction] = {}
        # Panel modules register menu actions as they are imported, so they load first.
        panels.load_panel_modules()
        self._build_actions()
        self.panels: dict[str, QWidget] = {}
        self._build_panels()
        install_project_menu(self)
        self._connect()
        self._attach_bulk()
        self.refresh_library()
        self.model.set_query(self.filters.query, wait=True)
        self.risk_queue.count_now()
        self.resize(1440, 900)
        self.grid.setFocus()

    # construction --------------------------------------------------------------------
    def _build_panels(self) -> None:
        for spec in sorted(panels.PANELS.values(), key=lambda p: (p.order, p.name)):
            self.add_panel(spec)

    def add_panel(self, spec: panels.Panel) -> QWidget:
        widget = spec.factory(self)
        widget.setObjectName(f"panel_{spec.name}")
        if spec.area == "tab":
            self.tabs.addTab(widget, tr(spec.title))
        else:
            dock = QDockWidget(tr(spec.title), self)
            dock.setObjectName(f"dock_{spec.name}")
            dock.setWidget(widget)
            self.addDockWidget(DOCK_AREAS[spec.area], dock)
        self.panels[spec.name] = widget
        return widget

    def show_panel(self, name: str) -> None:
        widget = self.panels[name]
        index = self.tabs.indexOf(widget)
        if index >= 0:
            self.tabs.setCurrentIndex(index)

    def _connect(self) -> None:
        self.filters.changed.connect(self.model.set_query)
        self.filters.changed.connect(self._narrow_cards)
        self.sidebar.domainSelected.connect(lambda d: self.filters.update(domain=d))
        self.filter_bar.changed.connect(lambda changes: self.filters.update(**changes))
        self.model.queryApplied.connect(self._query_applied)
        self.model.rowsMerged.connect(self._rows_merged)
        self.model.queryFailed.connect(
            lambda m: self.statusBar().showMessage(tr("Filter failed: {error}", error=m))
        )
        self.grid.currentImageChanged.connect(self.review.show_image_soon)
        self.grid.clicked.connect(self._tile_clicked)
        self.history.changed.connect(self._history_changed)
        self.history.failed.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.review.imageDecided.connect(lambda _i, _s: self.grid.step(1))
        self.review.message.connect(lambda m: self.statusBar().showMessage(m, 6000))
        self.review.editFinished.connect(self.grid.setFocus)
        self.review.leaveRefused.connect(self._stay_on_image)
        self.tabs.currentChanged.connect(self._tab_changed)
        stack = self.history.stack
        stack.canUndoChanged.connect(self.actions_by_name["undo"].setEnabled)
        stack.canRedoChanged.connect(self.actions_by_name["redo"].setEnabled)
        stack.undoTextChanged.connect(
            lambda t: self.actions_by_name["undo"].setText(tr("Undo {what}", what=t).strip())
        )
        stack.redoTextChanged.connect(
            lambda t: self.actions_by_name["redo"].setText(tr("Redo {what}", what=t).strip())
        )
        self.actions_by_name["undo"].setEnabled(False)
        self.actions_by_name["redo"].setEnabled(False)
        self.history.changed.connect(lambda _images, _replay: self.risk_queue.count_soon())
        self.risk_queue.show.connect(self.open_item)
        self.risk_queue.message.connect(lambda m: self.statusBar().showMessage(m, 6000))
        self.item_runs.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.item_runs.changed.connect(self.show_changes)

    def _attach_bulk(self) -> None:
        """Multi-selection, the grid's and the sidebar's context menus (their own modules)."""
        from desktop.views.bulk_actions import BulkActions
        from desktop.views.domain_actions import DomainActions

        self.bulk = BulkActions(self)
        self.domain_actions = DomainActions(self)
        for source in (self.bulk, self.domain_actions):
            source.message.connect(lambda m: self.statusBar().showMessage(m, 8000))

    def selected_image_ids(self) -> list[int]:
        """The grid's selection (the Jobs panel runs a stage on it)."""
        return self.bulk.selection.ids().tolist()

    def show_changes(self, changes) -> None:
        """After a job or an import (core.changes.Changes): the filters again over the rows it
        touched (one that no longer matches leaves, a new match comes in), the reviewer's place
        kept, and the open image re-read if it was one of them."""
        if changes or changes.added_images:
            self.model.reapply(changes.images)
        if self.review.image_id in changes.images:
            self.review.refresh()
        for widget in self.panels.values():  # the Items tab re-reads its rows too
            if hasattr(widget, "on_changes"):
                widget.on_changes(changes)
        self.risk_queue.count_soon()

    def _narrow_cards(self, query) -> None:
        self.review.card_filter.set_query(query)
        self.review.refresh()

    def open_item(self, image_id: int, item_id: int) -> None:
        """Show one item in the review pane: its image (selected in the grid when the grid's
        filter holds it) with its card current."""
        if not self.review.can_leave():  # a refused value is still in a field
            return
        self.tabs.setCurrentIndex(0)
        row = self.model.row_of(image_id)
        if row is not None:
            self.grid.select_row(row)
        else:
            self.statusBar().showMessage(
                tr("Image #{id} is outside the grid's filter; shown in the pane", id=image_id),
                6000,
            )
        if self.review.image_id != image_id:
            self.review.set_image(image_id)
        self.review.select_item(item_id)

    def refresh_library(self) -> None:
        """Domain counts now (one small query); the list of check flags in the background."""
        self.sidebar.set_counts(browse.domain_entries(self.project.db), self.filters.query.domain)
        db = self.project.db
        self.background.submit(
            lambda report: browse.check_flag_names(db), self.filter_bar.set_flags
        )

    # reactions -----------------------------------------------------------------------
    def _query_applied(self, query, count: int) -> None:
        self.count_label.setText(trn("{n:,} image", "{n:,} images", count))
        if count and not self.grid.currentIndex().isValid():
            self.grid.select_row(0)

    def _rows_merged(self, count: int) -> None:
        self.count_label.setText(trn("{n:,} image", "{n:,} images", count))

    def _history_changed(self, images, replay: bool) -> None:
        self.model.invalidate(images)
        if replay and self.review.image_id not in images:
            row = self.model.first_row_of(images)
            if row is not None:  # undo/redo elsewhere: show what changed
                self.grid.select_row(row)

    def _tile_clicked(self, index) -> None:
        """A click on the open image's tile reads it again (another process may have
        written to it: the CLI, a second window)."""
        image_id = self.model.image_id(index.row())
        if image_id is not None and image_id == self.review.image_id:
            self.model.invalidate([image_id])
            self.review.refresh()

    def _stay_on_image(self) -> None:
        """The pane kept its image (a field holds a refused value): the grid follows it."""
        row = self.model.row_of(self.review.image_id)
        if row is not None and self.grid.currentIndex().row() != row:
            self.grid.select_row(row)

    def _tab_changed(self, index: int) -> None:
        if index != 0 and not self.review.can_leave():
            self.tabs.setCurrentIndex(0)

    # shutdown ------------------------------------------------------------------------
    def is_idle(self) -> bool:
        """No query, thumbnail or picture still loading (screenshots and benchmarks wait on it)."""
        return not (
            self.model.busy()
            or self.review.busy()
            or self.background.busy()
            or self.bulk.busy()
            or self.thumbs.pending()
            or self.risk_queue.busy()
            or any(w.busy() for w in self.panels.values() if hasattr(w, "on_changes"))
        )

    def shutdown(self) -> None:
        """Save the field being typed in and stop the worker threads; idempotent."""
        self._shut_down = True
        self.review.shutdown()
        self.bulk.runner.wait()
        self.model.shutdown()
        self.thumbs.shutdown()
        self.background.wait()
        self.risk_queue.wait()
        self.item_runs.wait()
        for widget in self.panels.values():
            runner = getattr(widget, "runner", None)
            if runner is not None:
                runner.wait()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._shut_down and not self.review.can_leave():
            event.ignore()  # a refused value would be lost: ask first
            self._ask_discard()
            return
        self.shutdown()
        super().closeEvent(event)

    def _ask_discard(self) -> None:
        if self.discard_box is not None and self.discard_box.isVisible():
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            tr("A value was not saved"),
            tr(
                "The value typed in the review pane was refused: {reason}\n\n"
                "Close anyway and lose it?",
                reason=self.review.refused_reason(),
            ),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Cancel).setText(tr("Keep editing"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _r: self._discard_answered(box))
        self.discard_box = box
        box.open()

    def _discard_answered(self, box: QMessageBox) -> None:
        if box.clickedButton() is box.button(QMessageBox.StandardButton.Discard):
            self.review.discard_held()
            self.close()
        elif self.review.held_field() is not None:
            QTimer.singleShot(0, self._back_to_held)  # after the box has given focus back

    def _back_to_held(self) -> None:
        held = self.review.held_field()
        if held is not None:
            self.activateWindow()
            held.setFocus(Qt.FocusReason.OtherFocusReason)  # back to the value to fix
