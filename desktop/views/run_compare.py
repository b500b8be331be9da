"""Every run in the project's runs/ folder side by side: state, final loss, held-out accuracy
before and after, and the loss curves of the selected runs overlaid.

Run folders are read on a worker thread (a long run's metrics.jsonl is megabytes).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.models.run_metrics import RunInfo, RunMetrics, list_runs
from desktop.strings import N_, tr
from desktop.views.line_chart import PALETTE, LineChart
from desktop.views.run_monitor import STATE_TEXT
from desktop.workers.tasks import TaskRunner

COLUMNS = (N_("Run"), N_("State"), N_("Model"), N_("Steps"), N_("Final loss"),
           N_("Acc. before"), N_("Acc. after"), "Δ")  # fmt: skip
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class _Item(QTableWidgetItem):
    """Sorts by the number behind the text (empty cells last)."""

    def __lt__(self, other) -> bool:
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if a is None or b is None:
            return (a is None) < (b is None)
        return a < b


def _pct(v) -> str:
    return f"{v:.1%}" if isinstance(v, int | float) else "—"


class RunCompare(QWidget):
    showRun = Signal(Path)  # a row was double-clicked: follow it in the monitor

    def __init__(self, runs_dir: Path, parent=None):
        super().__init__(parent)
        self.runs_dir = Path(runs_dir)
        self.runner = TaskRunner(self, threads=1)
        self.runs: list[RunInfo] = []
        self._pending = False
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runsTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSortIndicator(
            0, Qt.SortOrder.AscendingOrder
        )  # newest first
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._overlay)
        self.table.itemDoubleClicked.connect(self._activated)
        self.chart = LineChart(tr("Training loss of the selected runs"))
        self.summary = QLabel()
        self.summary.setObjectName("runsSummary")
        refresh = QPushButton(tr("Refresh"))
        refresh.clicked.connect(self.refresh)
        show = QPushButton(tr("Show in Run tab"))
        show.clicked.connect(self._show_selected)
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(show)
        head.addWidget(refresh)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.chart)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(split, 1)

    def refresh(self) -> None:
        if self.runner.busy():
            self._pending = True  # one more pass after this one, for what changed meanwhile
            return
        runs_dir = self.runs_dir
        self.summary.setText(tr("Reading runs…"))
        self.runner.submit(lambda _report: list_runs(runs_dir), self._loaded, self._failed)

    def busy(self) -> bool:
        return self.runner.busy()

    def _failed(self, exc: BaseException) -> None:
        self.summary.setText(tr("Could not read the runs: {error}", error=exc))

    def _loaded(self, runs: list[RunInfo]) -> None:
        known = {r.path for r in self.runs}
        # Keep what was selected; a run that appeared since the last pass joins the overlay.
        selected = {r.path for r in self.selected_runs()}
        selected |= {r.path for r in runs if r.path not in known} if known else set()
        self.runs = runs
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            before, after = run.accuracy_before, run.accuracy_after
            delta = after - before if before is not None and after is not None else None
            total = run.metrics.total_steps
            cells = (
                (run.name, -run.started),
                (tr(STATE_TEXT.get(run.state, run.state)), run.state),
                (Path(run.model).name if run.model else "—", run.model or ""),
                (f"{run.metrics.step} / {total}" if total else "—", run.metrics.step),
                (
                    f"{run.metrics.final_loss:.4f}" if run.metrics.loss else "—",
                    run.metrics.final_loss,
                ),
                (_pct(before), before),
                (_pct(after), after),
                (tr("{points:+.1f} pt", points=delta * 100) if delta is not None else "—", delta),
            )
            for col, (text, key) in enumerate(cells):
                item = _Item(text)
                item.setData(SORT_ROLE, key)
                item.setData(Qt.ItemDataRole.UserRole, row)
                if col == 0:
                    item.setToolTip(str(run.path))
                if col == 2 and run.model:
                    item.setToolTip(run.model)
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        self.summary.setText(tr("{n} run(s) in {folder}", n=len(runs), folder=self.runs_dir))
        self.table.blockSignals(True)
        self.select([r for r in runs if r.path in selected] if selected else runs[:3])
        self.table.blockSignals(False)
        self._overlay()
        if self._pending:
            self._pending = False
            self.refresh()

    def _run_at(self, row: int) -> RunInfo:
        return self.runs[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)]

    def select(self, runs: list[RunInfo]) -> None:
        wanted = {r.path for r in runs}
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(self.table.rowCount()):
            if self._run_at(row).path in wanted:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def selected_runs(self) -> list[RunInfo]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._run_at(r) for r in rows if self.table.item(r, 0) is not None]

    def _overlay(self) -> None:
        self.chart.clear()
        for i, run in enumerate(self.selected_runs()):
            self.chart.set_series(
                run.name, RunMetrics.series(run.metrics.loss), PALETTE[i % len(PALETTE)]
            )

    def _activated(self, item: QTableWidgetItem) -> None:
        self.showRun.emit(self._run_at(item.row()).path)

    def _show_selected(self) -> None:
        runs = self.selected_runs()
        if runs:
            self.showRun.emit(runs[0].path)
