"""A horizontal (stacked) bar chart painted with QPainter: QtCharts is not in PySide6-Essentials,
and these charts need nothing more than labelled bars and a legend."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.strings import tr


@dataclass
class Bar:
    label: str
    segments: list[tuple[str, float]] = field(default_factory=list)  # (series key, value)
    note: str = ""  # drawn after the bar; defaults to the total
    group: str = ""  # a heading drawn above the first bar of each group

    @property
    def total(self) -> float:
        return sum(v for _, v in self.segments)


class BarChart(QWidget):
    ROW, GAP, LEGEND = 20, 4, 22

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.title = title
        self.bars: list[Bar] = []
        self.colors: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.max_value: float | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_data(
        self,
        bars: list[Bar],
        colors: dict[str, str],
        names: dict[str, str] | None = None,
        max_value: float | None = None,
    ) -> None:
        """`colors` maps series keys to colours, in legend order; `names` gives their labels."""
        self.bars, self.colors, self.names, self.max_value = bars, colors, names or {}, max_value
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def _groups(self) -> int:
        return len({b.group for b in self.bars if b.group})

    def sizeHint(self) -> QSize:
        rows = max(1, len(self.bars))
        height = 28 + self.LEGEND + rows * (self.ROW + self.GAP) + self._groups() * self.ROW + 8
        return QSize(480, height)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().text().color()
        metrics = p.fontMetrics()
        font = p.font()
        font.setBold(True)
        p.setFont(font)
        p.setPen(text)
        p.drawText(QRectF(4, 2, self.width() - 8, 22), Qt.AlignmentFlag.AlignLeft, self.title)
        font.setBold(False)
        p.setFont(font)

        x = 8.0
        for key, color in self.colors.items():  # legend
            name = self.names.get(key, key)
            p.fillRect(QRectF(x, 30, 12, 12), QColor(color))
            p.drawText(QRectF(x + 16, 26, 200, 20), Qt.AlignmentFlag.AlignVCenter, name)
            x += 16 + metrics.horizontalAdvance(name) + 16

        if not self.bars:
            p.drawText(
                QRectF(8, 56, self.width(), 20), Qt.AlignmentFlag.AlignLeft, tr("No data yet")
            )
            return
        label_w = min(220, max(metrics.horizontalAdvance(b.label) for b in self.bars) + 12)
        note_w = max(metrics.horizontalAdvance(b.note or f"{b.total:,.0f}") for b in self.bars) + 12
        top = 28 + self.LEGEND
        span = max(self.max_value or max(b.total for b in self.bars), 1e-9)
        width = max(20.0, self.width() - label_w - note_w - 16)
        group = None
        y = float(top)
        for bar in self.bars:
            if bar.group and bar.group != group:
                group = bar.group
                font.setBold(True)
                p.setFont(font)
                p.setPen(text)
                p.drawText(
                    QRectF(4, y, self.width(), self.ROW), Qt.AlignmentFlag.AlignVCenter, group
                )
                font.setBold(False)
                p.setFont(font)
                y += self.ROW
            p.setPen(text)
            label = metrics.elidedText(bar.label, Qt.TextElideMode.ElideRight, label_w - 8)
            p.drawText(QRectF(8, y, label_w - 8, self.ROW), Qt.AlignmentFlag.AlignVCenter, label)
            x = 8.0 + label_w
            for key, value in bar.segments:
                w = width * value / span
                if w > 0:
                    p.fillRect(
                        QRectF(x, y + 2, w, self.ROW - 4), QColor(self.colors.get(key, "#888"))
                    )
                x += w
            p.setPen(text)
            p.drawText(
                QRectF(x + 6, y, note_w, self.ROW),
                Qt.AlignmentFlag.AlignVCenter,
                bar.note or f"{bar.total:,.0f}",
            )
            y += self.ROW + self.GAP
