"""Run core.export.export_project on a worker thread; progress arrives as short texts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.workers.tasks import TaskRunner


def export_formats() -> list[str]:
    """Names of the export formats core.export offers (empty when it is unavailable)."""
    try:
        from core.export.formats import FORMATS
    except ImportError:
        return []
    return list(FORMATS)


def run_export(project, out: Path, options: dict, progress=None):
    """Export with core.export; `options` are ExportOptions fields. Returns its ExportResult."""
    from core.export import ExportOptions, export_project

    return export_project(project, Path(out), ExportOptions(**options), on_progress=progress)


class ExportWorker(QObject):
    progress = Signal(str)
    finished = Signal(object)  # core.export.ExportResult
    failed = Signal(str)

    def __init__(self, project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.runner = TaskRunner(self, threads=1)
        self.running = False

    def start(self, out: Path, options: dict) -> None:
        if self.running:
            raise RuntimeError("an export is already running")
        self.running = True
        project = self.project
        self.runner.submit(
            lambda report: run_export(project, out, options, report),
            self._done,
            self._failed,
            lambda text: self.progress.emit(str(text)),
        )

    def _done(self, result) -> None:
        self.running = False
        self.finished.emit(result)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.failed.emit(str(exc) or type(exc).__name__)
