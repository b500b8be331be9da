"""Domains by title with their image counts; picking one sets the domain filter.

A long title is elided to the list's width and the count stays whole at the right edge: the
list never scrolls sideways, and the domain's name and full title are in the tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.strings import domain_title, tr

ALL = object()  # the "All images" entry
COUNT_ROLE = Qt.ItemDataRole.UserRole + 1
PAD = 6


class DomainDelegate(QStyledItemDelegate):
    """Title elided on the left, count right-aligned: both always fit the row."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        title, opt.text = opt.text, ""
        widget = option.widget
        style = widget.style() if widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = opt.palette.ColorRole.HighlightedText if selected else opt.palette.ColorRole.Text
        painter.save()
        painter.setPen(opt.palette.color(role))
        metrics = opt.fontMetrics
        rect = option.rect.adjusted(PAD, 0, -PAD, 0)
        count = f"{index.data(COUNT_ROLE):,}"
        count_w = metrics.horizontalAdvance(count)
        align = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(rect, align | Qt.AlignmentFlag.AlignRight, count)
        text_rect = QRect(
            rect.left(), rect.top(), max(0, rect.width() - count_w - PAD), rect.height()
        )
        elided = metrics.elidedText(title, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, align | Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        # No width of its own: the row is as wide as the list, so nothing scrolls sideways.
        return QSize(1, option.fontMetrics.height() + 8)


class DomainSidebar(QWidget):
    domainSelected = Signal(object)  # domain name, NO_DOMAIN (""), or None for all

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget(self)
        self.list.setObjectName("domainList")
        self.list.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.list.setItemDelegate(DomainDelegate(self.list))
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setMinimumWidth(150)
        title = QLabel(f"<b>{tr('Domains')}</b>", self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addWidget(title)
        layout.addWidget(self.list)
        self.list.currentItemChanged.connect(self._picked)
        self._updating = False

    def set_counts(self, entries: list[tuple[str, str, int]], selected: str | None = None) -> None:
        """`entries` (name, title, images) from core.store.browse.domain_entries; keeps
        `selected` highlighted."""
        self._updating = True
        try:
            self.list.clear()
            total = sum(n for *_, n in entries)
            self._add(tr("All images"), total, None)
            for name, title, n in entries:
                self._add(domain_title(name, title), n, name)
            for i in range(self.list.count()):
                if self.list.item(i).data(Qt.ItemDataRole.UserRole) == (
                    ALL if selected is None else selected
                ):
                    self.list.setCurrentRow(i)
                    break
        finally:
            self._updating = False

    def _add(self, title: str, n: int, name: str | None) -> None:
        item = QListWidgetItem(title)
        item.setData(Qt.ItemDataRole.UserRole, ALL if name is None else name)
        item.setData(COUNT_ROLE, n)
        if name:
            item.setToolTip(name if title == name else f"{name}\n{title}")
        else:
            item.setToolTip(title)
        self.list.addItem(item)

    def _picked(self, item: QListWidgetItem | None, _previous) -> None:
        if self._updating or item is None:
            return
        value = item.data(Qt.ItemDataRole.UserRole)
        self.domainSelected.emit(None if value is ALL else value)

    def select(self, domain: str | None) -> None:
        for i in range(self.list.count()):
            value = self.list.item(i).data(Qt.ItemDataRole.UserRole)
            if (value is ALL and domain is None) or value == domain:
                self.list.setCurrentRow(i)
                return
