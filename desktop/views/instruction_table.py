"""The Items tab: every instruction across images in one table, filtered and sorted, decided
with the grid's keys (A / R / X, N / P), with per-item history, regenerate, re-verify and
add-by-hand. Decisions go through the window's EditHistory (saved at once, undoable)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.changes import Changes
from core.store import browse, review
from core.store.browse import ANY_FLAG
from core.store.item_table import UNDECIDED, ItemQuery
from core.store.stats import DEFAULT_RISK_THRESHOLD
from core.vocab import ITEM_STATUSES
from desktop import panels
from desktop.models.instruction_table import SORT_COLUMN, InstructionTableModel
from desktop.strings import ITYPES, N_, domain_label, label, tr, trn

DISAGREE = "__verify_disagrees__"


class InstructionTablePanel(QWidget):
    openItem = Signal(int, int)  # image id, item id: show it in the review pane
    message = Signal(str)

    SEARCH_DELAY_MS = 250

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.project = window.project
        self.history = window.history
        self.model = InstructionTableModel(self.project, self)
        self.runner = self  # MainWindow.shutdown() calls runner.wait()

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        self.itype = self._combo(bar, "Type", tr("Type"), [(label("itype", k), k) for k in ITYPES])
        statuses = [(tr("Undecided"), UNDECIDED)]
        statuses += [(label("status", s), s) for s in ITEM_STATUSES]
        self.status = self._combo(bar, "Status", tr("Status"), statuses)
        self.flag = self._combo(bar, "Flag", tr("Check"), [])
        self.domain = self._combo(bar, "Domain", tr("Domain"), [])
        self.risky = QCheckBox(tr("Risky only (≥ {t:.2f})", t=DEFAULT_RISK_THRESHOLD), self)
        self.risky.setObjectName("itemsRisky")
        self.risky.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.risky.toggled.connect(lambda _on: self._apply_filters())
        bar.addWidget(self.risky)
        self.search = QLineEdit(self)
        self.search.setObjectName("itemsSearch")
        self.search.setPlaceholderText(tr("Words in questions, options, answers"))
        self.search.setClearButtonEnabled(True)
        bar.addWidget(self.search, 1)
        self._debounce = QTimer(self, singleShot=True, interval=self.SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self._apply_filters)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._apply_filters)

        self.table = QTableView(self)
        self.table.setObjectName("itemsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # one height: no per-row state
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((70, 70, 110, 120, 110, 60, 160, 420)):
            self.table.setColumnWidth(column, width)
        header.setSortIndicator(SORT_COLUMN["risk"], Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)
        self.table.doubleClicked.connect(lambda _i: self.open_current())

        actions = QHBoxLayout()
        self.count = QLabel(self)
        self.count.setObjectName("itemsCount")
        actions.addWidget(self.count, 1)
        self.buttons: dict[str, QPushButton] = {}
        for name, text, slot in (
            ("open", N_("Show in review (Enter)"), self.open_current),
            ("history", N_("History (H)"), self.show_history),
            ("regenerate", N_("Regenerate"), self.regenerate),
            ("reverify", N_("Re-verify"), self.reverify),
            ("add", N_("Add by hand…"), self.add_by_hand),
        ):
            button = QPushButton(tr(text), self)
            button.setObjectName(f"items_{name}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(slot)
            self.buttons[name] = button
            actions.addWidget(button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)

        for keys, slot in (("H", self.show_history), ("Return", self.open_current)):
            shortcut = QShortcut(QKeySequence(keys), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        self.model.queryApplied.connect(self._query_applied)
        self.model.countLanded.connect(self._show_count)
        self.model.queryFailed.connect(
            lambda m: self.message.emit(tr("Filter failed: {error}", error=m))
        )
        self.history.changed.connect(lambda images, _replay: self.model.invalidate_images(images))
        self.reload_choices()
        self.model.set_query(ItemQuery(), wait=True)

    def _combo(self, layout, name: str, title: str, entries) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(f"items{name}")
        combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        combo.addItem(tr("Any"), None)
        for text, value in entries:
            combo.addItem(text, value)
        combo.currentIndexChanged.connect(lambda _i: self._apply_filters())
        layout.addWidget(QLabel(title, self))
        layout.addWidget(combo)
        return combo

    def reload_choices(self) -> None:
        """The project's domains and check flags (small queries)."""
        db = self.project.db
        self._refill(self.domain, [(domain_label(n), n) for n, _t, _c in browse.domain_entries(db)])
        fixed = [(tr("Any failed check"), ANY_FLAG), (tr("Verify disagrees"), DISAGREE)]
        self._refill(self.flag, fixed + [(f, f) for f in browse.check_flag_names(db)])

    @staticmethod
    def _refill(combo: QComboBox, entries) -> None:
        keep = combo.currentData()
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for text, value in entries:
            combo.addItem(text, value)
        combo.setCurrentIndex(max(combo.findData(keep), 0))
        combo.blockSignals(False)

    # filters -------------------------------------------------------------------------
    def current_query(self) -> ItemQuery:
        flag = self.flag.currentData()
        return self.model.query.with_(
            itype=self.itype.currentData(),
            status=self.status.currentData(),
            check_flag=None if flag == DISAGREE else flag,
            disagree=flag == DISAGREE,
            domain=self.domain.currentData(),
            min_risk=DEFAULT_RISK_THRESHOLD if self.risky.isChecked() else None,
            text=self.search.text(),
        )

    def _apply_filters(self) -> None:
        self._debounce.stop()
        query = self.current_query()
        if query != self.model.query:
            self.model.set_query(query)

    def _query_applied(self, _query, count: int) -> None:
        self._show_count(count)
        if count:
            self.select_row(0)

    def _show_count(self, count: int) -> None:
        if self.model.counting():  # a common word: the first page came before the count
            self.count.setText(tr("{n:,}+ items (counting…)", n=count))
        else:
            self.count.setText(trn("{n:,} item", "{n:,} items", count))

    # the current row -----------------------------------------------------------------
    def current_row(self):
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.row(index.row())

    def select_row(self, r: int) -> None:
        index = self.model.index(r, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        flags |= QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(index, flags)
        self.table.scrollTo(index)

    def next_item(self, step: int = 1) -> bool:
        index = self.table.currentIndex()
        target = (index.row() + step) if index.isValid() else 0
        if not 0 <= target < self.model.rowCount():
            return False
        self.select_row(target)
        return True

    # the window's review commands (MainWindow routes A / R / X / N / P here) ---------
    def decide_item(self, status: str) -> None:
        row = self.current_row()
        if row is None:
            self.message.emit(tr("No instruction selected"))
            return
        ok = self.history.run(
            tr("{status}: item #{id}", status=label("status", status), id=row.id),
            [row.image_id],
            lambda: review.set_instruction_status(self.project.db, [row.id], status),
        )
        if ok:
            self.next_item(1)

    def open_current(self) -> None:
        row = self.current_row()
        if row is not None:
            self.openItem.emit(row.image_id, row.id)

    def show_history(self) -> None:
        from desktop.views.item_history import ItemHistoryDialog

        row = self.current_row()
        if row is None:
            return
        self.history_dialog = ItemHistoryDialog(self.project, row.id, self)
        self.history_dialog.open()

    def add_by_hand(self) -> None:
        from desktop.views.item_add import AddItemDialog

        row = self.current_row()
        if row is None:
            self.message.emit(
                tr("Pick an item of the image to add to, or add from the review pane")
            )
            return
        self.add_dialog = AddItemDialog(self.project, row.image_id, self)
        self.add_dialog.added.connect(lambda iid: self._added(row.image_id, iid))
        self.add_dialog.open()

    def _added(self, image_id: int, item_id: int) -> None:
        self.message.emit(tr("Added item #{id} to image #{image}", id=item_id, image=image_id))
        self.window.show_changes(Changes.of(images=[image_id], instructions=[item_id]))
        self.model.refresh()

    def regenerate(self) -> None:
        row = self.current_row()
        if row is not None:
            self.window.item_runs.regenerate(row.image_id, row.id, row.lang)

    def reverify(self) -> None:
        row = self.current_row()
        if row is not None:
            self.window.item_runs.reverify(row.image_id, row.id)

    def busy(self) -> bool:
        return self.model.busy()

    def wait(self, _msecs: int = -1) -> bool:
        self.model.shutdown()
        return True

    def on_changes(self, changes) -> None:
        """A job, a per-item run or an import changed rows: re-read those in view, and run
        the query again when items were added (they may belong in it)."""
        self.model.invalidate_items(changes.instructions)
        self.model.invalidate_images(changes.images)

    def current_item_id(self) -> int | None:
        row = self.current_row()
        return row.id if row is not None else None


def _factory(window) -> InstructionTablePanel:
    panel = InstructionTablePanel(window)
    panel.message.connect(lambda m: window.statusBar().showMessage(m, 6000))
    panel.openItem.connect(window.open_item)
    return panel


def _add_to_shown_image(window) -> None:
    from desktop.views.item_add import AddItemDialog

    image_id = window.review.image_id
    if image_id is None:
        window.statusBar().showMessage(tr("Pick an image in the grid first"), 6000)
        return
    dialog = AddItemDialog(window.project, image_id, window)
    dialog.added.connect(
        lambda iid: window.show_changes(Changes.of(images=[image_id], instructions=[iid]))
    )
    dialog.open()
    window.add_item_dialog = dialog


panels.register_panel(panels.Panel("items", N_("Items"), _factory, order=10))
panels.register_action(
    panels.MenuAction("Review", N_("Add an instruction by hand…"), _add_to_shown_image)
)
