"""Edit › Trash…: the deletes still in the trash, restored or emptied for good (core.trash).
Undo brings back a delete made in this session; this brings back any, after a restart too."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core import trash
from core.errors import StudioError
from desktop.strings import N_, tr

COLUMNS = (N_("Delete"), N_("When"), N_("Images"), N_("Instructions"), N_("Captions"))


class TrashDialog(QDialog):
    finished_work = Signal(str)  # restore | empty, once it has landed

    def __init__(self, window):
        super().__init__(window)
        self.setObjectName("trashDialog")
        self.setWindowTitle(tr("Trash"))
        self.window_ = window
        self.runner = window.bulk.runner  # after the bulk steps it may undo
        self.batches: list[trash.TrashBatch] = []
        self.table = QTableWidget(0, len(COLUMNS), self, objectName="trashTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.note = QLabel(objectName="trashNote", wordWrap=True)
        self.restore_button = QPushButton(tr("Restore"), objectName="trashRestore")
        self.empty_button = QPushButton(tr("Delete for good"), objectName="trashEmpty")
        close = QPushButton(tr("Close"))
        self.restore_button.clicked.connect(lambda: self.restore(self.chosen()))
        self.empty_button.clicked.connect(lambda: self.empty(self.chosen()))
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.restore_button, self.empty_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.resize(640, 360)
        self.reload()

    def reload(self) -> None:
        self.batches = trash.list_trash(self.window_.project)
        self.table.setRowCount(len(self.batches))
        for r, b in enumerate(self.batches):
            when = b.created_at.strftime("%Y-%m-%d %H:%M") if b.created_at else ""
            values = (f"#{b.id}", when, b.n_images, b.counts.get("instructions", 0),
                      b.counts.get("captions", 0))  # fmt: skip
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(str(value)))
        if self.batches:
            self.table.selectRow(0)
            self.note.setText(tr("Deleted images keep their files until deleted for good"))
        else:
            self.note.setText(tr("The trash is empty"))
        for b in (self.restore_button, self.empty_button):
            b.setEnabled(bool(self.batches))

    def chosen(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.batches[r].id for r in rows]

    def _run(self, name: str, work, message: str) -> None:
        def landed(_result) -> None:
            self.window_.bulk.rows_changed()
            self.reload()
            self.note.setText(message)
            self.finished_work.emit(name)

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, StudioError):
                raise exc
            self.reload()
            self.note.setText(str(exc))
            self.finished_work.emit(name)

        self.runner.submit(lambda _r: work(), landed, failed)

    def restore(self, ids: list[int]) -> None:
        if not ids:
            return
        project = self.window_.project
        self._run("restore", lambda: [trash.restore(project, i) for i in ids],
                  tr("Restored {n} delete(s)", n=len(ids)))  # fmt: skip

    def empty(self, ids: list[int], confirm: bool = True) -> None:
        if not ids:
            return
        if confirm:
            asked = QMessageBox.question(
                self,
                tr("Delete for good"),
                tr("Delete these images and their files for good? This cannot be undone."),
            )
            if asked != QMessageBox.StandardButton.Yes:
                return
        project = self.window_.project
        self._run("empty", lambda: trash.empty(project, ids),
                  tr("Emptied {n} delete(s) from the trash", n=len(ids)))  # fmt: skip

    def busy(self) -> bool:
        return self.runner.busy()
