"""Undo steps for bulk work whose undo and redo run off the GUI thread.

Reverting a decision on 10k images writes 100k rows; on the GUI thread that is a stall of
seconds. These commands hand the work to one worker thread, so steps replay in the order
they were asked for; the stack's index moves at once, the data follows, and a replay the
store refuses (a value changed since) is reported and the step dropped, as with
desktop.models.edits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PySide6.QtGui import QUndoCommand

from core.errors import StudioError
from core.store import review
from core.store.review_change import Change
from desktop.strings import tr
from desktop.workers.tasks import TaskRunner


class AsyncCommand(QUndoCommand):
    """`undo_work` / `redo_work` run on `runner`; `after(replayed)` runs on the GUI thread
    once one has landed. The first redo is the edit itself, already done."""

    def __init__(self, history, runner: TaskRunner, text: str, undo_work: Callable,
                 redo_work: Callable, after: Callable[[], None]):  # fmt: skip
        super().__init__(text)
        self.history, self.runner = history, runner
        self.undo_work, self.redo_work, self.after = undo_work, redo_work, after
        self._fresh = True

    def redo(self) -> None:
        if self._fresh:
            self._fresh = False
            return
        self._submit(self.redo_work, tr("Cannot redo “{what}”: {error}"))

    def undo(self) -> None:
        self._submit(self.undo_work, tr("Cannot undo “{what}”: {error}"))

    def _submit(self, work: Callable, refused: str) -> None:
        def failed(exc: BaseException) -> None:
            if not isinstance(exc, StudioError):
                raise exc
            self.setObsolete(True)
            self.history.failed.emit(refused.format(what=self.text(), error=exc))

        self.runner.submit(lambda _report: work(), lambda _result: self.after(), failed)


def push_changes(history, runner: TaskRunner, text: str, images: Iterable[int],
                 changes: Sequence[Change]) -> None:  # fmt: skip
    """Record a bulk edit already saved (core.store.bulk, core.replace) as one undo step."""
    if not changes:
        return
    images = frozenset(int(i) for i in images)
    changes = list(changes)
    db, author = history.db, history.author
    history.stack.push(
        AsyncCommand(
            history,
            runner,
            text,
            lambda: review.apply_changes(db, review.inverse(changes), author),
            lambda: review.apply_changes(db, changes, author),
            lambda: history.changed.emit(images, True),
        )
    )
    history.changed.emit(images, False)
