"""Domains with their image counts; picking one sets the domain filter."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.strings import domain_label

ALL = object()  # the "All images" entry


class DomainSidebar(QWidget):
    domainSelected = Signal(object)  # domain name, NO_DOMAIN (""), or None for all

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget(self)
        self.list.setObjectName("domainList")
        self.list.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumWidth(150)
        title = QLabel("<b>Domains</b>", self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addWidget(title)
        layout.addWidget(self.list)
        self.list.currentItemChanged.connect(self._picked)
        self._updating = False

    def set_counts(self, counts: list[tuple[str, int]], selected: str | None = None) -> None:
        """`counts` from core.store.browse.domain_counts; keeps `selected` highlighted."""
        self._updating = True
        try:
            self.list.clear()
            total = sum(n for _, n in counts)
            self._add("All images", total, None)
            for name, n in counts:
                self._add(domain_label(name), n, name)
            for i in range(self.list.count()):
                if self.list.item(i).data(Qt.ItemDataRole.UserRole) == (
                    ALL if selected is None else selected
                ):
                    self.list.setCurrentRow(i)
                    break
        finally:
            self._updating = False

    def _add(self, text: str, n: int, name: str | None) -> None:
        item = QListWidgetItem(f"{text}  ({n:,})")
        item.setData(Qt.ItemDataRole.UserRole, ALL if name is None else name)
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
