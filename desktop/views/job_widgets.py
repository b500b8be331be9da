"""Small pieces of the Jobs panel: the progress-bar cell, the failures table, and the words
for a direct run's summary."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTableWidget,
    QTableWidgetItem,
)

from desktop.models.jobs_model import JobRow
from desktop.strings import N_, tr, trn

FAILURE_COLUMNS = (N_("Item"), N_("Attempts"), N_("Reason"), N_("Error"))


class ProgressDelegate(QStyledItemDelegate):
    """Draws the Progress column as a bar of the items done (failed ones are no progress: a job
    whose items all failed shows an empty bar, and its status says failed)."""

    def paint(self, painter, option, index: QModelIndex) -> None:
        row: JobRow = index.data(Qt.ItemDataRole.UserRole)
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(2, 3, -2, -3))
        bar.minimum, bar.maximum = 0, max(1, row.total)
        bar.progress = min(row.total, row.done)
        bar.text = index.data()
        bar.textVisible = True
        # Qt 6 reads the orientation from the state; the row's selection colour would hide
        # the bar's chunk, so the bar is drawn as unselected.
        state = option.state | QStyle.StateFlag.State_Horizontal
        bar.state = state & ~QStyle.StateFlag.State_Selected
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class FailuresTable(QTableWidget):
    """The failed items of one job: item key, attempts, reason (error class), error text."""

    def __init__(self, parent=None):
        super().__init__(0, len(FAILURE_COLUMNS), parent)
        self.setObjectName("failuresTable")
        self.setHorizontalHeaderLabels([tr(c) for c in FAILURE_COLUMNS])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setStretchLastSection(True)

    def add(self, key, attempts, reason, error) -> None:
        n = self.rowCount()
        self.insertRow(n)
        for col, value in enumerate((key, attempts, reason, error)):
            item = QTableWidgetItem("" if value is None else str(value))
            item.setToolTip(item.text())
            self.setItem(n, col, item)

    def show_rows(self, rows: list[dict]) -> None:
        """Rows of core.store.jobs.failed_items."""
        self.setRowCount(0)
        for r in rows:
            self.add(r["key"], r["attempts"], r["reason"], r["error"])


def phrase_text(phrase) -> str:
    """A core Phrase (core.pipeline.results) in the interface's language."""
    from core.pipeline.results import Plural

    values = {
        k: trn(v.one, v.many, v.n) if isinstance(v, Plural) else v for k, v in phrase.values.items()
    }
    return tr(phrase.template, **values)


def describe_outcome(outcome) -> str:
    """A direct run's end (desktop.models.job_plan.DirectOutcome) in words: its result
    describes itself."""
    if outcome.status == "failed":
        return tr("failed: {error}", error=outcome.error)
    if outcome.status == "cancelled":
        return tr("cancelled")
    return phrase_text(outcome.result.describe())
