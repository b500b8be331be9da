"""Undo/redo over core.store.review: every edit is already saved; undo saves its inverse.

The stack lives as long as the window. An undo that would overwrite a value changed since
(by a job, or an edit on another path) is refused by the store and dropped from the stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.errors import StudioError
from core.store import review
from core.store.review_change import Change, default_author
from desktop.strings import tr


class _EditCommand(QUndoCommand):
    def __init__(self, history: EditHistory, text: str, changes: Sequence[Change], images):
        super().__init__(text)
        self.history = history
        self.changes = list(changes)
        self.images = frozenset(images)
        self._fresh = True  # pushing calls redo(); the edit itself is already saved

    def redo(self) -> None:
        if self._fresh:
            self._fresh = False
            return
        self._run(self.changes, tr("Cannot redo “{what}”: {error}"))

    def undo(self) -> None:
        self._run(review.inverse(self.changes), tr("Cannot undo “{what}”: {error}"))

    def _run(self, changes: list[Change], refused: str) -> None:
        try:
            review.apply_changes(self.history.db, changes, self.history.author)
        except StudioError as exc:
            self.setObsolete(True)  # QUndoStack drops it: it can no longer be replayed
            self.history.failed.emit(refused.format(what=self.text(), error=exc))
            return
        self.history.changed.emit(self.images, True)


class EditHistory(QObject):
    changed = Signal(object, bool)  # image ids whose data changed; True for an undo or redo
    failed = Signal(str)  # a message for the user; nothing was changed

    def __init__(self, db, parent: QObject | None = None, author: str | None = None):
        super().__init__(parent)
        self.db = db
        self.author = author or default_author()
        self.stack = QUndoStack(self)

    def run(self, text: str, images: Iterable[int], edit: Callable[[], list[Change]]) -> bool:
        """Call `edit` (a core.store.review function bound to its arguments) and record it.
        Returns False, with `failed` emitted, when the store refused the edit."""
        try:
            changes = edit()
        except StudioError as exc:
            self.failed.emit(str(exc))
            return False
        if changes:
            images = frozenset(images)
            self.stack.push(_EditCommand(self, text, changes, images))
            self.changed.emit(images, False)
        return True

    def undo(self) -> None:
        self.stack.undo()

    def redo(self) -> None:
        self.stack.redo()
