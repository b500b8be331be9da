"""A line chart painted with QPainter: several named series over a shared x axis.

pyqtgraph is not a dependency and QtCharts is not in PySide6-Essentials; training curves need
only lines, ticks and a legend. Series longer than the plot is wide are drawn as the minimum
and maximum of each pixel column, so a 100,000-step curve paints as fast as a short one and
keeps its spikes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.strings import tr

PALETTE = ("#2f6fb0", "#d9822b", "#3c9a5f", "#c8463d", "#8e5fb5", "#7f7f7f", "#b8a22a", "#2aa6b8")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 × 10^k steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, v = [], first
    while v <= hi + step * 1e-9:
        ticks.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return ticks


def format_tick(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if 100 <= a < 1e6:
        return f"{v:,.0f}"
    return f"{v:.3g}"


class LineChart(QWidget):
    MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 56, 12, 26, 24

    def __init__(
        self,
        title: str,
        parent=None,
        x_label: str = "step",
        x_format: Callable[[float], str] = format_tick,
        y_format: Callable[[float], str] = format_tick,
    ):
        super().__init__(parent)
        self.title = title
        self.x_label = x_label
        self.x_format, self.y_format = x_format, y_format  # tick labels (dates, money)
        self.series: dict[str, tuple[list[tuple[float, float]], str]] = {}
        self.setMinimumSize(220, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(420, 220)

    def set_series(self, name: str, points: list[tuple[float, float]], color: str | None = None):
        finite = [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]
        color = color or (self.series.get(name) or (None, None))[1]
        color = color or PALETTE[len(self.series) % len(PALETTE)]
        self.series[name] = (finite, color)
        self.update()

    def clear(self) -> None:
        self.series.clear()
        self.update()

    def point_count(self) -> int:
        return sum(len(points) for points, _ in self.series.values())

    def _bounds(self) -> tuple[float, float, float, float] | None:
        xs = [x for pts, _ in self.series.values() for x, _ in pts]
        ys = [y for pts, _ in self.series.values() for _, y in pts]
        if not xs:
            return None
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        if x1 == x0:
            x0, x1 = x0 - 1, x1 + 1
        if y1 == y0:
            pad = abs(y0) * 0.1 or 1.0
            y0, y1 = y0 - pad, y1 + pad
        pad = (y1 - y0) * 0.05
        return x0, x1, y0 - pad, y1 + pad

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text, grid = pal.text().color(), QColor(pal.mid().color())
        p.fillRect(self.rect(), pal.base())
        font = p.font()
        font.setBold(True)
        p.setFont(font)
        p.setPen(text)
        p.drawText(QRectF(8, 4, self.width() - 16, 20), Qt.AlignmentFlag.AlignLeft, self.title)
        font.setBold(False)
        p.setFont(font)
        self._legend(p, text)
        plot = QRectF(
            self.MARGIN_L,
            self.MARGIN_T,
            max(10, self.width() - self.MARGIN_L - self.MARGIN_R),
            max(10, self.height() - self.MARGIN_T - self.MARGIN_B),
        )
        bounds = self._bounds()
        if bounds is None:
            p.setPen(pal.placeholderText().color())
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, tr("No data yet"))
            return
        x0, x1, y0, y1 = bounds

        def to_px(x: float, y: float) -> QPointF:
            return QPointF(
                plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                plot.bottom() - (y - y0) / (y1 - y0) * plot.height(),
            )

        metrics = p.fontMetrics()
        for ty in nice_ticks(y0, y1, max(2, int(plot.height() // 40))):
            pt = to_px(x0, ty)
            p.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
            p.drawLine(QPointF(plot.left(), pt.y()), QPointF(plot.right(), pt.y()))
            p.setPen(text)
            label = self.y_format(ty)
            p.drawText(
                QRectF(0, pt.y() - 8, self.MARGIN_L - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
        for tx in nice_ticks(x0, x1, max(2, int(plot.width() // 80))):
            pt = to_px(tx, y0)
            p.setPen(text)
            label = self.x_format(tx)
            w = metrics.horizontalAdvance(label) + 4
            left = min(max(0.0, pt.x() - w / 2), self.width() - w)  # the last one stays whole
            p.drawText(
                QRectF(left, plot.bottom() + 3, w, 16),
                Qt.AlignmentFlag.AlignHCenter,
                label,
            )
        p.setPen(QPen(grid, 1))
        p.drawRect(plot)
        p.setClipRect(plot.adjusted(-1, -1, 1, 1))
        for points, color in self.series.values():
            self._line(p, [to_px(x, y) for x, y in points], QColor(color), plot.width())

    def _legend(self, p: QPainter, text: QColor) -> None:
        if len(self.series) < 2:
            return
        metrics = p.fontMetrics()
        x = self.width() - self.MARGIN_R
        for name, (_, color) in reversed(list(self.series.items())):
            w = metrics.horizontalAdvance(name)
            x -= w + 22
            if x < metrics.horizontalAdvance(self.title) + 24:
                break  # no room left beside the title: the table names the runs
            p.fillRect(QRectF(x, 10, 12, 4), QColor(color))
            p.setPen(text)
            p.drawText(QRectF(x + 16, 4, w + 4, 18), Qt.AlignmentFlag.AlignLeft, name)

    @staticmethod
    def _line(p: QPainter, pts: list[QPointF], color: QColor, width: float) -> None:
        if not pts:
            return  # a run that failed before its first step has no loss yet
        p.setPen(QPen(color, 1.6))
        if len(pts) == 1:
            p.setBrush(color)
            p.drawEllipse(pts[0], 2.5, 2.5)
            p.setBrush(Qt.BrushStyle.NoBrush)
            return
        if len(pts) > 2 * width:
            pts = _decimate(pts)
        path = QPainterPath(pts[0])
        for pt in pts[1:]:
            path.lineTo(pt)
        p.drawPath(path)


def _decimate(pts: list[QPointF]) -> list[QPointF]:
    """Per pixel column, the first, lowest, highest and last point, in x order."""
    out: list[QPointF] = []
    column: list[QPointF] = []
    for pt in pts:
        if column and int(pt.x()) != int(column[0].x()):
            out.extend(_column(column))
            column = []
        column.append(pt)
    out.extend(_column(column))
    return out


def _column(col: list[QPointF]) -> list[QPointF]:
    if len(col) <= 4:
        return col
    lo = min(col, key=lambda q: q.y())
    hi = max(col, key=lambda q: q.y())
    mid = sorted((lo, hi), key=lambda q: q.x())
    return [col[0], *mid, col[-1]]
