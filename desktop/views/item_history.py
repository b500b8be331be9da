"""One item's history: every revision of it (edits, decisions, regenerations, its creation by
hand), oldest first, from core.store.review.revisions_for."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.store import review
from core.store.item_writes import CREATED
from desktop.strings import N_, label, tr

FIELDS = {
    "question": N_("question"),
    "options": N_("options"),
    "answer": N_("answer"),
    "status": N_("status"),
    CREATED: N_("created by hand"),
}


def _shown(field: str, value: str | None) -> str:
    if value is None:
        return "—"
    return label("status", value) if field == "status" else value


class ItemHistoryDialog(QDialog):
    def __init__(self, project, item_id: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("History of item #{id}", id=item_id))
        self.revisions = review.revisions_for(project.db, "instructions", item_id)
        table = QTableWidget(len(self.revisions), 5, self)
        table.setObjectName("historyTable")
        table.setHorizontalHeaderLabels(
            [tr("When"), tr("Who"), tr("Field"), tr("Before"), tr("After")]
        )
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setWordWrap(True)
        for row, rev in enumerate(self.revisions):
            cells = (
                rev.created_at.strftime("%Y-%m-%d %H:%M:%S") if rev.created_at else "",
                rev.author or "",
                tr(FIELDS.get(rev.field, rev.field)),
                _shown(rev.field, rev.old),
                _shown(rev.field, rev.new),
            )
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                cell.setToolTip(text)
                table.setItem(row, col, cell)
        header = table.horizontalHeader()
        for col in (0, 1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        table.resizeRowsToContents()
        self.table = table
        layout = QVBoxLayout(self)
        if not self.revisions:
            layout.addWidget(QLabel(tr("No change recorded: the item is as it was made."), self))
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(900, 420)
