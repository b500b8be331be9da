"""The risk-ordered queue: "review next" walks the undecided items riskiest first
(core.store.quality.select_by_risk over instructions.risk), and the status bar says how many
undecided items at or above the risk threshold (as `mmstudio stats --risk-threshold`) are left.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from core.store import item_table, quality
from core.store.stats import DEFAULT_RISK_THRESHOLD
from core.vocab import MACHINE_STATUSES
from desktop.strings import tr, trn
from desktop.workers.tasks import TaskRunner


class RiskQueue(QObject):
    show = Signal(int, int)  # image id, item id: the next item to review
    message = Signal(str)
    counted = Signal(int)  # risky undecided items left

    def __init__(self, project, parent: QObject | None = None,
                 threshold: float = DEFAULT_RISK_THRESHOLD):  # fmt: skip
        super().__init__(parent)
        self.project = project
        self.threshold = threshold
        self.last: int | None = None  # the item the queue showed last
        self.runner = TaskRunner(self, threads=1)
        self.label = QLabel()
        self.label.setObjectName("riskyLeft")
        self.left: int | None = None
        self._recount = QTimer(self, singleShot=True, interval=300)  # a burst of edits: once
        self._recount.timeout.connect(self.count_now)

    def next(self) -> bool:
        """Show the next undecided item after the last one shown, riskiest first; from the
        top again at the end of the queue."""
        db = self.project.db
        found = quality.select_by_risk(db, statuses=MACHINE_STATUSES, limit=1, after=self.last)
        if not found and self.last is not None:
            found = quality.select_by_risk(db, statuses=MACHINE_STATUSES, limit=1)
        if not found:
            self.message.emit(tr("Nothing left to review: every item is decided"))
            return False
        item = found[0]
        self.last = item.id
        self.show.emit(item.image_id, item.id)
        return True

    def count_soon(self) -> None:
        self._recount.start()

    def count_now(self) -> None:
        db, threshold = self.project.db, self.threshold
        self.runner.submit(lambda _r: item_table.risky_left(db, threshold), self._counted)

    def _counted(self, n: int) -> None:
        self.left = n
        self.label.setText(
            trn("{n:,} risky item left", "{n:,} risky items left", n)
            + tr(" (risk ≥ {t:.2f})", t=self.threshold)
        )
        self.counted.emit(n)

    def busy(self) -> bool:
        return self.runner.busy() or self._recount.isActive()

    def wait(self, msecs: int = -1) -> bool:
        self._recount.stop()
        return self.runner.wait(msecs)
