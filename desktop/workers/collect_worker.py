"""Collection off the GUI thread: Openverse search, result previews, downloads of the picked
results and URL-list imports, each through core.collect, with progress and cancel."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage

from desktop.workers.tasks import TaskRunner

PREVIEW_BOX = 160


def message(exc: BaseException) -> str:
    """A StudioError's text as it is; anything else with its type, never a traceback."""
    from core.errors import StudioError

    text = str(exc).strip()
    if isinstance(exc, StudioError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class CollectWorker(QObject):
    searched = Signal(object)  # core.collect.openverse.SearchResults
    preview = Signal(int, int, QImage)  # search number, result index, picture (null: failed)
    progress = Signal(int, int)  # done, total (downloads, then the import)
    finished = Signal(object)  # core.collect.ingest.CollectSummary
    failed = Signal(str)

    def __init__(self, project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.runner = TaskRunner(self, threads=1)  # searches and downloads, one at a time
        self.previews = TaskRunner(self, threads=3)
        self.search_number = 0
        self.cancel_event = threading.Event()
        self.running = False

    # search and previews -----------------------------------------------------------------
    def search(self, domain: str, queries: list[str], license_type: str, pages: int = 1) -> None:
        project = self.project
        self.search_number += 1
        number = self.search_number

        def work(_report):
            from core.collect.openverse import search_results

            return search_results(project, domain, queries, pages=pages, license_type=license_type)

        def done(found) -> None:
            if number == self.search_number:  # an older search answering late is dropped
                self.searched.emit(found)
                self._load_previews(number, found.items)

        self.runner.submit(work, done, lambda exc: self.failed.emit(message(exc)))

    def _load_previews(self, number: int, items) -> None:
        for index, item in enumerate(items):
            url = item.meta.get("thumbnail") or item.url

            def work(_report, url=url, number=number):
                if number != self.search_number:
                    return None
                from core.collect.download import fetch_preview

                image = QImage.fromData(fetch_preview(url))
                if image.isNull():
                    return QImage()
                return image.scaled(PREVIEW_BOX, PREVIEW_BOX, Qt.AspectRatioMode.KeepAspectRatio,
                                    Qt.TransformationMode.SmoothTransformation)  # fmt: skip

            def done(image, index=index, number=number) -> None:
                if image is not None:
                    self.preview.emit(number, index, image)

            self.previews.submit(work, done, lambda _e, i=index, n=number: self.preview.emit(
                n, i, QImage()))  # fmt: skip

    # downloads ---------------------------------------------------------------------------
    def download(self, domain: str, found, items) -> None:
        """Download the picked search results into `domain`."""
        project = self.project

        def work(report, cancel):
            from core.collect.openverse import collect_results

            return collect_results(project, domain, found, items, workers=0,
                                   progress=report, cancel=cancel)  # fmt: skip

        self._run(work)

    def import_list(self, path: str, domain: str) -> None:
        """Download and import the images a URL list (txt, csv, tsv, parquet) names."""
        project = self.project

        def work(report, cancel):
            from core.collect.ingest import collect_url_list

            return collect_url_list(project, path, domain=domain, workers=0,
                                    progress=report, cancel=cancel)  # fmt: skip

        self._run(work)

    def _run(self, work) -> None:
        if self.running:
            self.failed.emit(self.tr_busy())
            return
        self.running = True
        cancel = self.cancel_event = threading.Event()

        def task(report):
            return work(lambda done, total=None: report((done, total or 0)), cancel)

        self.runner.submit(task, self._done, self._failed, lambda p: self.progress.emit(*p))

    @staticmethod
    def tr_busy() -> str:
        from desktop.strings import tr

        return tr("A download is running already: wait for it, or cancel it")

    def cancel(self) -> None:
        self.cancel_event.set()

    def _done(self, summary) -> None:
        self.running = False
        self.finished.emit(summary)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.failed.emit(message(exc))

    def busy(self) -> bool:
        return self.runner.busy() or self.previews.busy()

    def wait(self, msecs: int = -1) -> bool:
        self.cancel()
        self.search_number += 1  # previews still queued return at once
        return self.runner.wait(msecs) and self.previews.wait(msecs)
