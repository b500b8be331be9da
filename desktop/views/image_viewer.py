"""The image large: fit to the view, zoom (wheel, +/-), pan (drag), actual size."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsTextItem, QGraphicsView


class ImageViewer(QGraphicsView):
    MIN_SCALE, MAX_SCALE = 0.02, 32.0

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("imageViewer")
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor("#2b2d31"))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self._message = QGraphicsTextItem()
        self._message.setDefaultTextColor(QColor("#d0d3d8"))
        self.scene().addItem(self._message)
        self._fit = True
        self.source_size = None  # the full image's size, when known

    def show_image(
        self, image: QImage | None, message: str = "", provisional: bool = False
    ) -> None:
        """Show `image` (or `message` when None). A provisional image (the thumbnail while the
        full file decodes) keeps the current zoom mode and is replaced by the next call."""
        if image is None or image.isNull():
            self._item.setPixmap(QPixmap())
            self._message.setPlainText(message)
            self._message.setVisible(True)
            self.scene().setSceneRect(self._message.boundingRect())
            self.resetTransform()
            return
        self._message.setVisible(False)
        pixmap = QPixmap.fromImage(image)
        self._item.setPixmap(pixmap)
        scale = 1.0
        if provisional and self.source_size and pixmap.width():
            scale = self.source_size.width() / pixmap.width()  # same scene size as the full image
        self._item.setScale(scale)
        self.scene().setSceneRect(QRectF(0, 0, pixmap.width() * scale, pixmap.height() * scale))
        if self._fit or not provisional:
            self.fit()

    def clear(self, message: str = "") -> None:
        self.source_size = None
        self.show_image(None, message)

    def fit(self) -> None:
        self._fit = True
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.resetTransform()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 4.0:  # tiny images: do not blow them up past 4x
            self.setTransform(QTransform.fromScale(4.0, 4.0))

    def actual_size(self) -> None:
        self._fit = False
        self.setTransform(QTransform())

    def zoom(self, factor: float) -> None:
        current = self.transform().m11()
        target = min(self.MAX_SCALE, max(self.MIN_SCALE, current * factor))
        if target != current:
            self._fit = False
            self.scale(target / current, target / current)

    def zoom_level(self) -> float:
        return self.transform().m11()

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(1.25**steps)
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()
