"""The one current ImageQuery; the sidebar and the filter bar change it, the grid follows it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.store.browse import ImageQuery


class FilterState(QObject):
    changed = Signal(object)  # the new ImageQuery

    def __init__(self, parent: QObject | None = None, query: ImageQuery | None = None):
        super().__init__(parent)
        self.query = query or ImageQuery()

    def update(self, **changes) -> None:
        new = self.query.with_(**changes)
        if new != self.query:
            self.query = new
            self.changed.emit(new)

    def reset(self, query: ImageQuery) -> None:
        if query != self.query:
            self.query = query
            self.changed.emit(query)
