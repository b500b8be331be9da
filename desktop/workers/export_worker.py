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
    """Export with core.export; `options` are ExportOptions fields, plus `push_to_hub` (a repo
    id) and `private` to upload the result. Returns its ExportResult (`hub` set when pushed)."""
    from core.export import ExportOptions, export_project

    options = dict(options)
    repo, private = options.pop("push_to_hub", None), options.pop("private", False)
    if repo:
        from core.export.hub import check_online, check_repo_id, hub_endpoint, hub_token

        check_repo_id(repo)
        hub_token()
        check_online(hub_endpoint())
    result = export_project(project, Path(out), ExportOptions(**options), on_progress=progress)
    if repo:
        from core.export.hub import push_export

        result.hub = push_export(result.out, repo, private=private, on_progress=progress)
    return result


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
