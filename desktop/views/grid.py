"""The image grid: a QListView in icon mode whose delegate paints thumbnails and badges.

Layout is batched and item sizes are uniform, so a 100k-row model lays out in small slices
between events instead of one long stall.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from desktop.models.image_list import MISSING, ROW_ROLE, THUMB_ROLE
from desktop.strings import STATUS_COLORS, domain_label, tr, trn

TILE = QSize(168, 190)
THUMB_BOX = 152


class ThumbDelegate(QStyledItemDelegate):
    def sizeHint(self, option, index) -> QSize:
        return TILE

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.highlight() if selected else palette.alternateBase())
        painter.drawRoundedRect(rect, 6, 6)

        row = index.data(ROW_ROLE)
        box = QRect(rect.left() + 5, rect.top() + 5, rect.width() - 10, THUMB_BOX - 10)
        image = index.data(THUMB_ROLE) if row is not None else None
        if image is None or image is MISSING:
            self._placeholder(painter, box, missing=image is MISSING)
        else:
            size = image.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            painter.drawImage(target, image)
        if row is None:
            painter.restore()
            return

        # status strip on the left edge of the picture
        painter.setBrush(QColor(STATUS_COLORS.get(row.status, "#888")))
        painter.drawRoundedRect(QRect(box.left(), box.top(), 6, box.height()), 2, 2)
        self._badges(painter, box, row)

        text_rect = QRect(rect.left() + 6, box.bottom() + 4, rect.width() - 12, 20)
        painter.setPen(palette.highlightedText().color() if selected else palette.text().color())
        font = QFont(option.font)
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        painter.setFont(font)
        items = trn("{n} item", "{n} items", row.n_items)
        label = f"{domain_label(row.domain)} · {items}"
        metrics = painter.fontMetrics()
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(label, Qt.TextElideMode.ElideRight, text_rect.width()),
        )
        painter.restore()

    def _placeholder(self, painter: QPainter, box: QRect, missing: bool) -> None:
        painter.setBrush(QColor("#d6d9de") if not missing else QColor("#f0d9d6"))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QPen(QColor("#a4a9b1"), 2))
        c = box.center()
        painter.drawRect(QRect(c.x() - 18, c.y() - 14, 36, 28))
        painter.drawLine(c.x() - 14, c.y() + 10, c.x() - 2, c.y() - 2)
        painter.drawLine(c.x() - 2, c.y() - 2, c.x() + 14, c.y() + 10)
        if missing:
            painter.drawLine(box.topLeft(), box.bottomRight())
        painter.setPen(Qt.PenStyle.NoPen)

    def _badges(self, painter: QPainter, box: QRect, row) -> None:
        x = box.right() - 4
        for count, color in (
            (row.n_flagged, "#c8463d"),
            (row.n_disagree, "#e08a1e"),
        ):
            if not count:
                continue
            text = str(count)
            w = 18 + 6 * (len(text) - 1)
            badge = QRect(x - w, box.top() + 4, w, 18)
            painter.setBrush(QColor(color))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(badge, 9, 9)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
            x -= w + 4
        if not row.has_caption:
            badge = QRect(box.left() + 10, box.bottom() - 22, 64, 18)
            painter.setBrush(QColor(0, 0, 0, 150))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, tr("no caption"))
        painter.setPen(Qt.PenStyle.NoPen)


class ImageGrid(QListView):
    currentImageChanged = Signal(object)  # image id or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setGridSize(TILE)
        self.setSpacing(0)
        self.setWordWrap(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(40)
        self.setItemDelegate(ThumbDelegate(self))
        self.setMinimumWidth(TILE.width() + 30)

    def setModel(self, model) -> None:
        super().setModel(model)
        self.selectionModel().currentChanged.connect(self._current_changed)
        model.modelReset.connect(lambda: self.currentImageChanged.emit(None))

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        model = self.model()
        self.currentImageChanged.emit(model.image_id(current.row()) if current.isValid() else None)

    def current_image(self) -> int | None:
        index = self.currentIndex()
        return self.model().image_id(index.row()) if index.isValid() else None

    def step(self, delta: int) -> bool:
        """Move the current image by `delta` rows in model order; False at either end."""
        model = self.model()
        if model is None or model.rowCount() == 0:
            return False
        row = self.currentIndex().row() if self.currentIndex().isValid() else -1
        target = 0 if row < 0 else row + delta
        if not 0 <= target < model.rowCount():
            return False
        self.select_row(target)
        return True

    def select_row(self, row: int) -> None:
        index = self.model().index(row)
        self.setCurrentIndex(index)
        self.scrollTo(index)
