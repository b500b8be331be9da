"""CLIP work for the Curate tab, off the GUI thread: the embedding job (model download with
progress, resumable batches, cancel), relevance scoring, duplicate grouping, searches and the
pool index. One long job at a time; quick queries have their own thread so they never wait
behind an embedding run.

The model runs in a child process (core.collect.encoder_process): importing torch there
cannot hold this process's interpreter lock. The embedding job runs on the CPU unless the
user picks otherwise, in small batches, with torch on one thread fewer than the machine has,
so the GUI thread keeps a core (bench/embed.py measures GUI-thread stalls during a run)."""

from __future__ import annotations

import os
import threading

from PySide6.QtCore import QObject, Signal

from desktop.workers.collect_worker import message
from desktop.workers.tasks import TaskRunner

GUI_BATCH = 16  # images per batch in the desktop: a cancel is heard within one batch


def job_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


class ClipWorker(QObject):
    jobProgress = Signal(str, int, int)  # phase ("download", "embed", "pool"), done, total
    jobFinished = Signal(str, object)  # job name, its summary
    jobFailed = Signal(str, str)  # job name, message
    failed = Signal(str)  # a quick query failed: a message

    def __init__(self, project, parent: QObject | None = None, device: str = "cpu"):
        super().__init__(parent)
        self.project = project
        self.device = device
        self.jobs = TaskRunner(self, threads=1)
        self.queries = TaskRunner(self, threads=1)
        self.cancel_event = threading.Event()
        self.job: str | None = None
        self.encoder = None
        self._lock = threading.Lock()  # the job and the query thread may both want a model
        self._index = None  # core.collect.vector_index.ProjectIndex of the last model searched

    # the encoder -------------------------------------------------------------------------
    def _encoder(self, model: str | None, report):
        """The encoder of `model` (pool thread), in a child process so that loading torch
        never freezes the window; a catalog model is downloaded first, with progress."""
        from core.collect.embed import default_model
        from core.collect.encoder_process import shared_encoder

        name = default_model(self.project, model)
        with self._lock:
            enc = self.encoder
            if enc is not None and enc.alive() and (name is None or enc.key == _key(name)):
                return enc

            def download(_file, done, total):
                report(("download", int(done), int(total or 0)))

            report(("load", 0, 0))
            self.encoder = shared_encoder(name, self.device, job_threads(), progress=download)
            return self.encoder

    # long jobs ---------------------------------------------------------------------------
    def _start(self, name: str, work) -> bool:
        if self.job is not None:
            self.jobFailed.emit(name, _busy(self.job))
            return False
        self.job = name
        cancel = self.cancel_event = threading.Event()

        def task(report):
            return work(report, cancel)

        def done(result):
            self.job = None
            if self._index is not None:
                self._index.invalidate()  # vectors may have been added or replaced
            self.jobFinished.emit(name, result)

        def broke(exc):
            self.job = None
            self.jobFailed.emit(name, message(exc))

        self.jobs.submit(task, done, broke, lambda p: self.jobProgress.emit(*p))
        return True

    def embed(self, model: str | None, batch_size: int = GUI_BATCH, domain: str | None = None):
        """Embed the images without a vector from `model`: resumable, cancellable."""
        project = self.project

        def work(report, cancel):
            from core.collect.embed import embed_images

            enc = self._encoder(model, report)
            return embed_images(project, enc.key, domain=domain, batch_size=batch_size,
                                encoder=enc, cancel=cancel,
                                progress=lambda d, t: report(("embed", d, t)))  # fmt: skip

        return self._start("embed", work)

    def score(self, model: str | None, threshold: float | None, domain: str | None = None):
        """Embed what is missing, then score every image against its domain's prompts."""
        project = self.project

        def work(report, cancel):
            from core.collect.embed import embed_images
            from core.collect.relevance import score_relevance

            enc = self._encoder(model, report)
            got = embed_images(project, enc.key, domain=domain, batch_size=GUI_BATCH,
                               encoder=enc, cancel=cancel,
                               progress=lambda d, t: report(("embed", d, t)))  # fmt: skip
            if got.cancelled:
                return got
            return score_relevance(project, enc.key, threshold=threshold, domain=domain,
                                   embed_missing=False, encoder=enc)  # fmt: skip

        return self._start("relevance", work)

    def group(self, model: str | None, threshold: float | None, domain: str | None = None):
        project = self.project

        def work(report, cancel):
            from core.collect.embed import embed_images
            from core.collect.similarity import group_near_duplicates

            enc = self._encoder(model, report)
            got = embed_images(project, enc.key, batch_size=GUI_BATCH, encoder=enc,
                               cancel=cancel, progress=lambda d, t: report(("embed", d, t)))  # fmt: skip
            if got.cancelled:
                return got
            return group_near_duplicates(project, threshold, enc.key, domain)

        return self._start("groups", work)

    def index_pool(self, folder: str, model: str | None):
        project = self.project

        def work(report, cancel):
            from core.collect.pool_index import index_pool

            enc = self._encoder(model, report)
            return index_pool(project, folder, enc.key, encoder=enc, batch_size=GUI_BATCH,
                              cancel=cancel, progress=lambda d, t: report(("pool", d, t)))  # fmt: skip

        return self._start("pool", work)

    def add_pool(self, index, hits, domain: str, seed_id: int):
        project = self.project

        def work(report, cancel):
            from core.collect.pool_index import add_pool_images

            return add_pool_images(project, index, hits, domain, seed_id,
                                   progress=lambda d, t=0: report(("import", d, t)))  # fmt: skip

        return self._start("add_pool", work)

    def cancel(self) -> None:
        self.cancel_event.set()

    # quick queries -----------------------------------------------------------------------
    def project_index(self, model_key: str):
        """The in-memory vectors of `model_key` for repeated searches (query thread)."""
        from core.collect.embed import stored_model
        from core.collect.vector_index import ProjectIndex

        row = stored_model(self.project, model_key)
        if self._index is None or self._index.row.id != row.id:
            self._index = ProjectIndex(self.project, row)
        return self._index

    def query(self, fn, on_done, needs_encoder: str | bool = False, model: str | None = None):
        """Run `fn(project)` (or `fn(project, encoder)`) on the query thread."""
        project = self.project

        def work(report):
            if needs_encoder:
                return fn(project, self._encoder(model, report))
            return fn(project)

        self.queries.submit(work, on_done, lambda exc: self.failed.emit(message(exc)))

    def busy(self) -> bool:
        return self.jobs.busy() or self.queries.busy()

    def wait(self, msecs: int = -1) -> bool:
        self.cancel()
        return self.jobs.wait(msecs) and self.queries.wait(msecs)


def _key(name: str | None) -> str | None:
    from core.collect.embed import model_key

    return model_key(name) if name else None


def _busy(job: str) -> str:
    from desktop.strings import tr

    return tr("A {job} run is going on: wait for it, or cancel it", job=job)
