"""Find and replace (Edit › Find and replace…): over the images the filter shows or the
selected ones, in questions, options, answers and captions, plain text or a regular
expression. Preview lists every change (and every change left out, with the reason) before
anything is written; Apply writes them in one transaction and one Ctrl+Z undoes them all.
Planning and writing are core.replace's, on a worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from core import replace
from core.errors import StudioError
from desktop.models.bulk_history import push_changes
from desktop.strings import N_, tr
from desktop.workers.tasks import TaskRunner

FIELD_TITLES = {
    "question": N_("Questions"),
    "options": N_("Options"),
    "answer": N_("Answers"),
    "caption": N_("Captions"),
}
COLUMNS = (N_("Image"), N_("Field"), N_("Before"), N_("After"), N_("Note"))


def _text(value) -> str:
    return " | ".join(value) if isinstance(value, list) else str(value)


class PreviewModel(QAbstractTableModel):
    """The plan's edits, one row each (the plan is already the list of changes)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.edits: list[replace.Edit] = []

    def set_plan(self, plan: replace.ReplacePlan | None) -> None:
        self.beginResetModel()
        self.edits = list(plan.edits) if plan else []
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.edits)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(COLUMNS[section])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        e = self.edits[index.row()]
        if role == Qt.ItemDataRole.ForegroundRole and e.problem:
            return QColor("#9a3b32")
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        h = e.hit
        values = (
            f"#{h.image_id}",
            tr(FIELD_TITLES[h.field]),
            _text(h.old),
            _text(e.new),
            tr("left out: {why}", why=e.problem) if e.problem else "",
        )
        return values[index.column()]


class ReplaceDialog(QDialog):
    applied = Signal(int)  # number of values changed
    planned = Signal(int)  # number of rows in the preview

    def __init__(self, window, selection_first: bool = False):
        super().__init__(window)
        self.setObjectName("replaceDialog")
        self.setWindowTitle(tr("Find and replace"))
        self.window_ = window
        self.runner = TaskRunner(self, threads=1)
        self.plan: replace.ReplacePlan | None = None
        self.find = QLineEdit(objectName="replaceFind")
        self.replacement = QLineEdit(objectName="replaceWith")
        self.regex = QCheckBox(tr("Regular expression"), objectName="replaceRegex")
        self.regex.setToolTip(tr("RE2 syntax; \\1 in the replacement is the first group"))
        self.match_case = QCheckBox(tr("Match case"), objectName="replaceCase", checked=True)
        self.fields = {f: QCheckBox(tr(t), checked=True) for f, t in FIELD_TITLES.items()}
        self.scope = QComboBox(objectName="replaceScope")
        n_sel = window.bulk.selection.count()
        self.scope.addItem(tr("Images matching the filter ({n:,})", n=window.model.rowCount()),
                           "filter")  # fmt: skip
        self.scope.addItem(tr("Selected images ({n:,})", n=n_sel), "selection")
        if selection_first and n_sel:
            self.scope.setCurrentIndex(1)
        self.preview_button = QPushButton(tr("Preview"), objectName="replacePreview")
        self.apply_button = QPushButton(tr("Apply"), objectName="replaceApply", enabled=False)
        self.table = QTableView(objectName="replaceTable")
        self.model = PreviewModel(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # Widths from the first rows only: measuring 100k rows would hold the GUI thread.
        header.setResizeContentsPrecision(64)
        self.summary = QLabel(objectName="replaceSummary", wordWrap=True)
        self._layout()
        self.preview_button.clicked.connect(self.preview)
        self.apply_button.clicked.connect(self.apply)
        for w in (self.find, self.replacement):
            w.textChanged.connect(self._stale)
            w.returnPressed.connect(self.preview)
        for box in (self.regex, self.match_case, *self.fields.values()):
            box.toggled.connect(self._stale)
        self.scope.currentIndexChanged.connect(self._stale)
        self.resize(900, 560)

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow(tr("Find"), self.find)
        form.addRow(tr("Replace with"), self.replacement)
        boxes = QHBoxLayout()
        boxes.addWidget(self.regex)
        boxes.addWidget(self.match_case)
        boxes.addStretch(1)
        form.addRow("", boxes)
        where = QHBoxLayout()
        for box in self.fields.values():
            where.addWidget(box)
        where.addStretch(1)
        form.addRow(tr("In"), where)
        form.addRow(tr("Images"), self.scope)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("Close"))
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.preview_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)

    def _selection(self):
        """The images, and the filter's instruction type and status, which also narrow the
        instructions replaced (a filter on judgements replaces in judgements only)."""
        query = self.window_.filters.query
        narrow = {"itype": query.itype, "item_status": query.item_status}
        if self.scope.currentData() == "selection":
            return self.window_.bulk.selection.ids().copy(), narrow
        return query, narrow

    def _stale(self) -> None:
        """Any change of the search makes the preview old: Apply waits for a new one."""
        if self.plan is not None:
            self.plan = None
            self.model.set_plan(None)
            self.summary.setText(tr("Preview again to see the changes"))
        self.apply_button.setEnabled(False)

    def preview(self) -> None:
        fields = tuple(f for f, box in self.fields.items() if box.isChecked())
        if not fields:
            self.summary.setText(tr("Tick at least one place to replace in"))
            return
        db, (ids, narrow) = self.window_.project.db, self._selection()
        args = (self.find.text(), self.replacement.text())
        opts = {"regex": self.regex.isChecked(), "match_case": self.match_case.isChecked()}
        self.summary.setText(tr("Looking…"))
        self.preview_button.setEnabled(False)
        self.runner.submit(
            lambda _r: replace.plan(db, ids, *args, fields=fields, **opts, **narrow),
            self._planned,
            self._failed,
        )

    def _planned(self, plan: replace.ReplacePlan) -> None:
        self.preview_button.setEnabled(True)
        self.plan = plan
        self.model.set_plan(plan)
        self.table.resizeColumnsToContents()
        n, left = len(plan.valid), len(plan.refused)
        text = tr("{n:,} changes in {images:,} images", n=n, images=len(plan.images()))
        if left:
            text += " · " + tr("{n:,} left out (the rules of an edit refuse them)", n=left)
        if not plan.edits:
            text = tr("Nothing matches: nothing would change")
        self.summary.setText(text)
        self.apply_button.setEnabled(n > 0)
        self.planned.emit(len(plan.edits))

    def _failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        if not isinstance(exc, StudioError):
            raise exc
        self.summary.setText(str(exc))

    def apply(self) -> None:
        plan = self.plan
        if plan is None or not plan.valid:
            return
        window = self.window_
        project, author = window.project, window.history.author
        self.apply_button.setEnabled(False)
        self.summary.setText(tr("Writing {n:,} changes…", n=len(plan.valid)))

        def landed(changes) -> None:
            text = tr("Replace “{find}” with “{repl}” ({n:,} changes)", find=plan.find,
                      repl=plan.replace, n=len(plan.valid))  # fmt: skip
            push_changes(window.history, window.bulk.runner, text, plan.images(), changes)
            self.plan = None
            self.summary.setText(
                tr(
                    "Changed {n:,} values; Ctrl+Z in the main window undoes all of them",
                    n=len(plan.valid),
                )  # fmt: skip
            )
            self.applied.emit(len(plan.valid))

        self.runner.submit(
            lambda _r: replace.apply(project, plan, author=author), landed, self._failed
        )

    def busy(self) -> bool:
        return self.runner.busy()
