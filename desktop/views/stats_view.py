"""Project statistics as charts: instructions by domain x type x status, images by status,
failed checks, how often people corrected what the models wrote, and what the model calls
cost over time."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from core.store.review_stats import review_stats
from desktop.strings import ITYPES, STATUS_COLORS, STATUSES, domain_label, label, tr
from desktop.views.charts import Bar, BarChart
from desktop.views.line_chart import LineChart, format_tick
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
        refresh = QPushButton(tr("Refresh"), self)
        refresh.clicked.connect(self.refresh)
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(refresh)
        self.instructions = BarChart(tr("Instructions by domain × type, stacked by status"))
        self.images = BarChart(tr("Images by domain, stacked by status"))
        self.flags = BarChart(tr("Failed checks (instructions flagged per check)"))
        self.correction = BarChart(tr("Correction rate: decided instructions a person edited"))
        self.cost = LineChart(tr("Cost over time (USD, cumulative)"), y_format=_usd)
        self.cost.setObjectName("costChart")
        self.cost.setFixedHeight(240)
        body = QWidget(self)
        charts = QVBoxLayout(body)
        for chart in (self.instructions, self.images, self.flags, self.correction, self.cost):
            charts.addWidget(chart)
        charts.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(scroll)
        self.summary.setText(f"<i>{tr('Loading…')}</i>")

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
            flag_bars.append(Bar(tr("verify disagrees"), [("verify", stats["disagreements"])]))
        self.flags.set_data(
            flag_bars,
            {"flag": "#c8463d", "verify": "#e08a1e"},
            {"flag": tr("check"), "verify": tr("verify stage")},
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
        self.correction.set_data(
            rows, {"rate": "#2f7fd8"}, {"rate": tr("% corrected")}, max_value=100
        )
        self.show_cost(stats["cost"])

        total = sum(n for *_, n in stats["instructions"])
        images = sum(n for *_, n in stats["images"])
        overall = f"{corrected_all / decided_all:.0%}" if decided_all else "—"
        self.summary.setText(
            tr(
                "<b>{images:,}</b> images · <b>{total:,}</b> instructions · "
                "<b>{decided:,}</b> decided by a person · correction rate <b>{rate}</b> · "
                "model calls <b>{cost}</b>",
                images=images,
                total=total,
                decided=decided_all,
                rate=overall,
                cost=_usd(stats["cost"]["total"]),
            )
        )

    def show_cost(self, cost: dict) -> None:
        """The cumulative spend (core.store.review_stats.cost_over_time) as a line."""
        points, x_format = cost_points(cost)
        self.cost.x_format = x_format
        self.cost.clear()
        if points:
            self.cost.set_series(tr("spent"), points, "#c8463d")


def _usd(v: float) -> str:
    if v == 0:
        return "$0"
    return f"${v:,.2f}" if abs(v) >= 0.01 else f"${v:.2g}"


def cost_points(cost: dict):
    """(x, cumulative USD) per bucket end, from 0 at the first bucket's start; x counts
    buckets (hours or days) from there. Returns the points and the x-axis label format."""
    rows = cost["points"]
    if not rows:
        return [], format_tick
    hourly = cost["unit"] == "hour"
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    start: datetime = rows[0][0]
    points = [(0.0, 0.0)]
    points += [((bucket - start) / step + 1, total) for bucket, _cost, total in rows]

    def x_format(x: float) -> str:
        if not hourly and abs(x - round(x)) > 1e-6:
            return ""  # no half days on the axis
        at = start + step * x
        return at.strftime("%H:%M") if hourly else at.strftime("%m-%d")

    return points, x_format
