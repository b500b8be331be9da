"""Project statistics as charts: instructions by domain x type x status, images by status,
failed checks, and how often people corrected what the models wrote."""

from __future__ import annotations

from collections import defaultdict

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from core.store.review_stats import review_stats
from desktop.strings import ITYPES, STATUS_COLORS, STATUSES, domain_label, label
from desktop.views.charts import Bar, BarChart
from desktop.workers.tasks import TaskRunner


class StatsView(QWidget):
    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.runner = TaskRunner(self, threads=1)
        self.stats: dict | None = None
        self.summary = QLabel(self)
        self.summary.setObjectName("statsSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        refresh = QPushButton("Refresh", self)
        refresh.clicked.connect(self.refresh)
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(refresh)
        self.instructions = BarChart("Instructions by domain × type, stacked by status")
        self.images = BarChart("Images by domain, stacked by status")
        self.flags = BarChart("Failed checks (instructions flagged per check)")
        self.correction = BarChart("Correction rate: decided instructions a person edited")
        body = QWidget(self)
        charts = QVBoxLayout(body)
        for chart in (self.instructions, self.images, self.flags, self.correction):
            charts.addWidget(chart)
        charts.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(scroll)
        self.summary.setText("<i>Loading…</i>")

    def refresh(self) -> None:
        db = self.project.db
        self.runner.submit(lambda report: review_stats(db), self.show_stats)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def show_stats(self, stats: dict) -> None:
        self.stats = stats
        status_colors = {s: STATUS_COLORS[s] for s in STATUSES}
        names = {s: label("status", s) for s in STATUSES}

        by_dt: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        for domain, itype, status, n in stats["instructions"]:
            by_dt[(domain, itype)][status] = n
        order = {t: k for k, t in enumerate(ITYPES)}
        bars = [
            Bar(
                label("itype", itype),
                [(s, counts.get(s, 0)) for s in STATUSES],
                group=domain_label(domain),
            )
            for (domain, itype), counts in sorted(
                by_dt.items(), key=lambda kv: (kv[0][0] == "", kv[0][0], order.get(kv[0][1], 9))
            )
        ]
        self.instructions.set_data(bars, status_colors, names)

        by_d: dict[str, dict[str, int]] = defaultdict(dict)
        for domain, status, n in stats["images"]:
            by_d[domain][status] = n
        self.images.set_data(
            [
                Bar(domain_label(d), [(s, c.get(s, 0)) for s in STATUSES])
                for d, c in sorted(by_d.items(), key=lambda kv: (kv[0] == "", kv[0]))
            ],
            {s: status_colors[s] for s in ("new", "accepted", "rejected", "needs_fix")},
            names,
        )

        flag_bars = [Bar(flag, [("flag", n)]) for flag, n in stats["flags"]]
        if stats["disagreements"]:
            flag_bars.append(Bar("verify disagrees", [("verify", stats["disagreements"])]))
        self.flags.set_data(
            flag_bars,
            {"flag": "#c8463d", "verify": "#e08a1e"},
            {"flag": "check", "verify": "verify stage"},
        )

        rows, decided_all, corrected_all = [], 0, 0
        for domain, decided, corrected in stats["correction"]:
            decided_all += decided
            corrected_all += corrected
            rate = corrected / decided if decided else 0.0
            rows.append(
                Bar(
                    domain_label(domain),
                    [("rate", rate * 100)],
                    note=f"{rate:.0%}  ({corrected}/{decided})",
                )
            )
        self.correction.set_data(rows, {"rate": "#2f7fd8"}, {"rate": "% corrected"}, max_value=100)

        total = sum(n for *_, n in stats["instructions"])
        images = sum(n for *_, n in stats["images"])
        overall = f"{corrected_all / decided_all:.0%}" if decided_all else "—"
        self.summary.setText(
            f"<b>{images:,}</b> images · <b>{total:,}</b> instructions · "
            f"<b>{decided_all:,}</b> decided by a person · correction rate <b>{overall}</b>"
        )
