"""Run a core call on a pool thread and get its result back on the GUI thread.

Results travel through one long-lived QObject per runner, keyed by a task number; no per-task
QObject or QRunnable is ever deleted while a pool thread might still be touching it.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

from core.errors import ProjectClosed
from desktop.workers.quiet_gc import quiet_collector


class _Mailbox(QObject):
    done = Signal(int, object)
    failed = Signal(int, object)
    progress = Signal(int, object)


class TaskRunner(QObject):
    """A small pool of its own, so slow work (an import) never queues behind quick queries."""

    def __init__(self, parent: QObject | None = None, threads: int = 1):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.pool.setExpiryTimeout(-1)  # keep the threads: starting one costs milliseconds
        self._mail = _Mailbox(self)
        self._mail.done.connect(self._done)
        self._mail.failed.connect(self._failed)
        self._mail.progress.connect(self._progress)
        self._numbers = itertools.count(1)
        self._live: dict[int, tuple] = {}

    def submit(
        self,
        fn: Callable[[Callable[[Any], None]], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> int:
        """Run `fn(report)` on a pool thread; `report(obj)` reaches `on_progress` on the GUI
        thread, the result reaches `on_done`, an exception `on_error` (else sys.excepthook)."""
        number = next(self._numbers)
        self._live[number] = (on_done, on_error, on_progress)
        mail = self._mail

        def run() -> None:
            try:
                with quiet_collector():  # no full GC pass over the window's objects
                    result = fn(lambda obj: mail.progress.emit(number, obj))
            except BaseException as exc:  # delivered to the GUI thread, never lost
                mail.failed.emit(number, exc)
            else:
                mail.done.emit(number, result)

        self.pool.start(run)
        return number

    def _done(self, number: int, result: Any) -> None:
        on_done, _, _ = self._live.pop(number, (None, None, None))
        if on_done:
            on_done(result)

    def _failed(self, number: int, exc: BaseException) -> None:
        _, on_error, _ = self._live.pop(number, (None, None, None))
        if on_error:
            on_error(exc)
        elif isinstance(exc, ProjectClosed):
            return  # the window that asked closed its project meanwhile: nothing to show
        else:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def _progress(self, number: int, obj: Any) -> None:
        entry = self._live.get(number)
        if entry and entry[2]:
            entry[2](obj)

    def busy(self) -> bool:
        return bool(self._live)

    @Slot()
    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)
