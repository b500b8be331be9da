"""The Balance tab: per domain, images, captions and instructions of each type against the
target the user sets (the paper's 24 domains x 4 types), the gap in each cell, and one action
to fill the selected domain's first gap: collect images (the Collect tab, searching with the
domain's keywords), caption them, or generate the under-filled types (a Jobs-tab job).
Counts and gaps come from core.collect.balance."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.panels import MenuAction, Panel, register_action, register_panel
from desktop.strings import N_, label, tr
from desktop.workers.tasks import TaskRunner

FILL_TEXT = {"collect": N_("Collect {n:,} image(s)"), "caption": N_("Caption {n:,} image(s)"),
             "generate": N_("Generate {types}")}  # fmt: skip
GAP, MET = QColor("#f6d5d2"), QColor("#d5ecd9")


class BalancePanel(QWidget):
    fillRequested = Signal(str, str, object)  # action, domain, under-filled types

    def __init__(self, project, parent: QWidget | None = None):
        super().__init__(parent)
        from core.collect.balance import get_target
        from core.pipeline.items import ITYPES

        self.project = project
        self.itypes = list(ITYPES)
        self.rows: list = []
        self.reader = TaskRunner(self, threads=1)
        self.runner = self.reader  # MainWindow.shutdown() calls runner.wait()
        target = get_target(project)
        self.images = self._spin("balanceImages", target.images)
        self.captions = self._spin("balanceCaptions", target.captions)
        self.per_type = {t: self._spin(f"balance_{t}", target.instructions[t]) for t in ITYPES}
        self.save_button = QPushButton(tr("Set target"), objectName="balanceSave")
        columns = [tr("Domain"), tr("Images"), tr("Captions"),
                   *[label("itype", t) for t in ITYPES], tr("To do first")]  # fmt: skip
        self.table = QTableWidget(0, len(columns), objectName="balanceTable")
        self.table.setHorizontalHeaderLabels(columns)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.fill_button = QPushButton(tr("Fill the gap of the selected domain"),
                                       objectName="balanceFill")  # fmt: skip
        self.refresh_button = QPushButton(tr("Refresh"), objectName="balanceRefresh")
        self.summary = QLabel(objectName="balanceSummary", wordWrap=True)
        self.message = QLabel(objectName="panelMessage", wordWrap=True)

        targets = QHBoxLayout()
        targets.addWidget(QLabel(tr("Target per domain:")))
        for text, spin in ((tr("images"), self.images), (tr("captions"), self.captions),
                           *[(label("itype", t), s) for t, s in self.per_type.items()]):  # fmt: skip
            targets.addWidget(QLabel(text))
            targets.addWidget(spin)
        targets.addWidget(self.save_button)
        targets.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.fill_button)
        actions.addWidget(self.refresh_button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(targets)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.save_button.clicked.connect(self.save_target)
        self.refresh_button.clicked.connect(self.reload)
        self.fill_button.clicked.connect(self.fill_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.reload()

    def _spin(self, name: str, value: int) -> QSpinBox:
        spin = QSpinBox(objectName=name, minimum=0, maximum=10_000_000)
        spin.setValue(value)
        return spin

    def target(self):
        from core.collect.balance import Target

        return Target(self.images.value(), self.captions.value(),
                      {t: s.value() for t, s in self.per_type.items()})  # fmt: skip

    def save_target(self) -> None:
        from core.collect.balance import set_target

        set_target(self.project, self.target())
        self.say(tr("Target saved with the project"))
        self.reload()

    # counts ------------------------------------------------------------------------------
    def reload(self) -> None:
        from core.collect.balance import balance

        project, target = self.project, self.target()
        self.reader.submit(lambda _r: balance(project, target), self._show,
                           lambda exc: self.say(str(exc)))  # fmt: skip

    def _show(self, rows) -> None:
        selected = self.selected()
        self.rows = list(rows)
        self.table.setRowCount(len(self.rows))
        for r, b in enumerate(self.rows):
            t = b.target
            cells = [(b.domain, None), (f"{b.images:,} / {t.images:,}", b.image_gap),
                     (f"{b.captions:,} / {min(t.captions, b.images):,}", b.caption_gap)]  # fmt: skip
            gaps = b.type_gaps()
            cells += [(f"{b.instructions[x]:,} / {t.instructions[x]:,}", gaps[x])
                      for x in self.itypes]  # fmt: skip
            cells.append((self.fill_text(b), None))
            for c, (text, gap) in enumerate(cells):
                item = QTableWidgetItem(text)
                if gap is not None:
                    item.setBackground(QBrush(GAP if gap else MET))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    if gap:
                        item.setToolTip(tr("{n:,} short of the target", n=gap))
                self.table.setItem(r, c, item)
        short = sum(1 for b in self.rows if b.fill_action())
        self.summary.setText(tr("{short:,} of {n:,} domains are short of the target",
                                short=short, n=len(self.rows)))  # fmt: skip
        if selected is not None:
            self.select(selected)
        self._update_buttons()

    def fill_text(self, b) -> str:
        action = b.fill_action()
        if action is None:
            return tr("target met")
        if action == "generate":
            types = ", ".join(label("itype", t) for t in b.under_filled())
            return tr(FILL_TEXT[action], types=types)
        n = b.image_gap if action == "collect" else b.caption_gap
        return tr(FILL_TEXT[action], n=n)

    def select(self, domain: str) -> None:
        for r, b in enumerate(self.rows):
            if b.domain == domain:
                self.table.selectRow(r)
                return

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()].domain if rows and self.rows else None

    def _update_buttons(self) -> None:
        domain = self.selected()
        row = next((b for b in self.rows if b.domain == domain), None)
        self.fill_button.setEnabled(row is not None and row.fill_action() is not None)
        if row is not None and row.fill_action():
            self.fill_button.setText(f"{self.fill_text(row)} — {domain}")
        else:
            self.fill_button.setText(tr("Fill the gap of the selected domain"))

    def fill_selected(self) -> None:
        domain = self.selected()
        row = next((b for b in self.rows if b.domain == domain), None)
        if row is None or row.fill_action() is None:
            return
        self.fillRequested.emit(row.fill_action(), domain, row.under_filled())

    def say(self, text: str) -> None:
        self.message.setText(text)

    def busy(self) -> bool:
        return self.reader.busy()


# filling: through the Collect tab and the Jobs tab's worker --------------------------------
def fill(window, action: str, domain: str, types: list[str]) -> str:
    """Start what fills `domain`'s gap; returns what was done, for the panel to say."""
    if action == "collect":
        collect = window.panels["collect"]
        collect.reload_domains()
        collect.choose_domain(domain)
        window.show_panel("collect")
        collect.search()
        return tr("Searching Openverse for {domain}: pick results and download", domain=domain)
    from core.pipeline import stages
    from desktop.models.job_plan import Scope

    jobs = window.panels["jobs"]
    backend = jobs.form.backend.currentData()
    if not backend:
        window.show_panel("jobs")
        return tr("Add or choose a backend in the Jobs tab first (Tools > Settings)")
    # the stage's own options, in the output language the Jobs form has
    opts = stages.get(action).options(lang=jobs.form.options().lang)
    if action == "generate":
        opts.itypes = list(types)
    from desktop.models.jobs_model import stage_text

    jobs.start(action, opts, Scope("domain", domain=domain), backend)
    window.show_panel("jobs")
    return tr("Started {stage} on {domain}", stage=stage_text(action), domain=domain)


def _factory(window) -> BalancePanel:
    panel = BalancePanel(window.project, window)
    panel.fillRequested.connect(lambda a, d, t: panel.say(fill(window, a, d, t)))
    window.tabs.currentChanged.connect(
        lambda _i: window.tabs.currentWidget() is panel and panel.reload()
    )
    return panel


register_panel(Panel("balance", N_("Balance"), _factory, area="tab", order=24))
register_action(MenuAction("View", N_("Balance"), lambda w: w.show_panel("balance"), order=24))
