"""Run a core call on a pool thread and get its result back on the GUI thread."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)
    progress = Signal(object)


class Task(QRunnable):
    """`fn(report)` runs on a pool thread; `report(obj)` sends progress to the GUI thread."""

    def __init__(self, fn: Callable[[Callable[[Any], None]], Any]):
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps it until its result has been delivered
        self.fn = fn
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.fn(self.signals.progress.emit)
        except BaseException as exc:  # delivered to the GUI thread, never lost
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class TaskRunner(QObject):
    """A small pool of its own, so slow work (an import) never queues behind quick queries."""

    def __init__(self, parent: QObject | None = None, threads: int = 1):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.pool.setExpiryTimeout(-1)  # keep the threads: starting one costs milliseconds
        self._live: set[Task] = set()

    def submit(
        self,
        fn: Callable[[Callable[[Any], None]], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Task:
        task = Task(fn)
        self._live.add(task)

        def finish(result: Any) -> None:
            self._live.discard(task)
            if on_done:
                on_done(result)

        def fail(exc: BaseException) -> None:
            self._live.discard(task)
            if on_error:
                on_error(exc)
            else:
                sys.excepthook(type(exc), exc, exc.__traceback__)

        task.signals.done.connect(finish)
        task.signals.failed.connect(fail)
        if on_progress:
            task.signals.progress.connect(on_progress)
        self.pool.start(task)
        return task

    def busy(self) -> bool:
        return bool(self._live)

    @Slot()
    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)
