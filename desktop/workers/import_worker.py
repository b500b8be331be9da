"""Run core.library.importer.import_paths on a worker thread with progress signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.workers.tasks import TaskRunner


class ImportWorker(QObject):
    progress = Signal(int, int)  # done, total
    finished = Signal(object)  # core.library.importer.ImportSummary
    failed = Signal(str)

    def __init__(self, project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.runner = TaskRunner(self, threads=1)
        self.running = False

    def start(self, paths: list[Path], domain: str | None, reference: bool = False) -> None:
        if self.running:
            raise RuntimeError("an import is already running")
        self.running = True
        project = self.project

        def work(report):
            from core.library.importer import import_paths  # workers pool and Pillow: lazily

            return import_paths(
                project,
                list(paths),
                domain=domain or None,
                reference=reference,
                progress=lambda done, total=None: report((done, total or 0)),
            )

        self.runner.submit(work, self._done, self._failed, lambda p: self.progress.emit(*p))

    def _done(self, summary) -> None:
        self.running = False
        self.finished.emit(summary)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.failed.emit(f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
