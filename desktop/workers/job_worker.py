"""The Jobs panel's bridge to the job engine: plan on a pool thread, run each job on the
engine's own thread (core.jobs.start_job), and hand every progress event to the GUI thread
as a Qt signal. Nothing here blocks the GUI thread: planning, backend start-up and shutdown
run on the pool; the engine's callback only emits (a queued connection to the widgets).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.models.job_plan import Cancelled, DirectOutcome, DirectRun, EngineRun, Scope, plan
from desktop.strings import tr
from desktop.workers.tasks import TaskRunner

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.1  # a direct run's progress reaches the GUI at most this often


@dataclass
class _Live:
    handle: object  # core.jobs.JobHandle
    backend: object
    followup: object = None  # () -> EngineRun | None, planned once the job is done
    info: dict = field(default_factory=dict)


def _message(exc: BaseException) -> str:
    text = str(exc).strip().strip("'\"")
    return text if text else type(exc).__name__


class JobWorker(QObject):
    event = Signal(object)  # core.jobs.JobEvent, delivered on the GUI thread
    jobStarted = Signal(int, object)  # job id, {"stage", "backend", "scope", "skipped"}
    jobEnded = Signal(int, object)  # job id, final JobEvent (None when the engine raised)
    nothingToDo = Signal(str, object)  # stage, what the planner skipped
    directStarted = Signal(str, str)  # run key, stage
    directProgress = Signal(str, int, int)  # run key, done, total
    directEnded = Signal(str, object)  # run key, DirectOutcome
    failed = Signal(str)  # a message for the user
    changed = Signal(object)  # core.changes.Changes: the rows a finished job or run touched

    def __init__(self, project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.pool = TaskRunner(self, threads=2)
        self.live: dict[int, _Live] = {}
        self._starting = 0
        self._direct_cancel: dict[str, threading.Event] = {}
        self._keys = itertools.count(1)
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._reap)

    # starting ----------------------------------------------------------------------------
    def start(
        self,
        stage: str,
        opts,
        scope: Scope,
        backend_name: str | None,
        batch: bool | None = None,
    ):
        """Plan `stage` over `scope` off the GUI thread, then run it. A stage whose job is
        running already is refused: two jobs would plan, and pay for, the same items.
        `batch`: through the Batch API (None: as the backend is set)."""
        running = [i for i, live in self.live.items() if live.info.get("requested") == stage]
        if running:
            self.failed.emit(
                tr(
                    "a {stage} job is running already (job {id}): wait for it, or stop it",
                    stage=stage,
                    id=running[0],
                )
            )
            return
        project, opts = self.project, type(opts).from_json(opts.to_json())  # a copy to narrow

        def work(report):
            backend = self._backend(backend_name, stage, opts)
            try:
                typed, run = plan(project, stage, opts, scope, backend)
            except BaseException:
                if backend is not None:
                    backend.close()
                raise
            if isinstance(run, DirectRun):
                return ("direct", run, None)
            params = typed.to_json() | {"scope": scope.to_json(), "requested_stage": stage}
            launched = self._launch(run, backend, params, scope.label(), batch)
            if launched is not None:
                launched[1].info["requested"] = stage
            return ("engine", run, launched)

        self._starting += 1
        self.pool.submit(work, lambda r: self._started(stage, r), self._start_failed)

    def resume_job(
        self,
        job_id: int,
        backend_name: str | None = None,
        retry: bool = False,
        budget_usd: float | None = None,
        new_budget: bool = False,
    ):
        """Run a job again from where it stopped (failed items too, with `retry`; with
        `new_budget`, under `budget_usd` instead of the budget that stopped it)."""
        if job_id in self.live:
            self.live[job_id].handle.resume()
            return
        project = self.project

        def work(report):
            from core.jobs import start_job
            from core.pipeline.stages import prepare_resume
            from core.store import jobs as js

            job = js.get_job(project.db, job_id)
            if job is None:
                raise ValueError(tr("job {id} is not in this project", id=job_id))
            backend = self._model_backend(backend_name or job["backend"], job["stage"])
            try:
                job, stage = prepare_resume(project, job_id, backend)
                if retry:
                    js.retry_failed(project.db, job_id)
                if new_budget:
                    js.set_budget(project.db, job_id, budget_usd)
                handle = start_job(
                    project.db, job_id, stage, backend, self._limits(backend), self._emit
                )
            except BaseException:
                backend.close()
                raise
            scope = (job["params"].get("scope") or {}).get("kind")
            info = {"stage": job["stage"], "backend": backend.name, "scope": scope,
                    "requested": job["params"].get("requested_stage", job["stage"])}  # fmt: skip
            return ("engine", None, (job_id, _Live(handle, backend, None, info)))

        self._starting += 1
        self.pool.submit(work, lambda r: self._started(None, r), self._start_failed)

    def resample_job(self, job_id: int, backend_name: str | None = None) -> None:
        """Run a finished job's stage again over its images with a new seed and temperature
        (core.jobs.stage.resampled): a new request key, so the model is really asked, where a
        redo was answered from the reply cache."""
        from core.pipeline import stages
        from core.store import jobs as js

        job = js.get_job(self.project.db, job_id)
        if job is None:
            self.failed.emit(tr("job {id} is not in this project", id=job_id))
            return
        params = dict(job["params"])
        stage = params.get("requested_stage", job["stage"])
        opts = stages.get(stage).options.from_json(params)
        opts.force, opts.resample = True, int(params.get("resample") or 0) + 1
        if params.get("image_ids"):
            scope = Scope("images", tuple(params["image_ids"]))
        elif params.get("domain"):
            scope = Scope("domain", domain=params["domain"])
        else:
            scope = Scope("all")
        self.start(stage, opts, scope, backend_name or job["backend"])

    def _backend(self, name: str | None, stage: str, opts):
        from desktop.models.job_plan import uses_model

        if not uses_model(stage, opts):
            return None
        return self._model_backend(name, stage)

    @staticmethod
    def _model_backend(name: str | None, stage: str):
        if not name:
            from core.pipeline.run import PipelineError

            raise PipelineError(
                tr("stage {stage} calls a model: choose a backend first", stage=stage)
            )
        from core.backends.registry import make_backend

        return make_backend(name)

    def collect_batches(self) -> None:
        """Resume every job with a batch still out (the app was closed while it ran): it
        polls, and stores the answers as they come."""
        from core.store.batches import jobs_with_open_batches

        for job_id in jobs_with_open_batches(self.project.db):
            if job_id not in self.live:
                self.resume_job(job_id)

    @staticmethod
    def _limits(backend, batch: bool | None = None):
        from core.jobs import Limits

        return Limits.from_backend(backend, batch=batch)

    def _launch(
        self, run: EngineRun, backend, params: dict, scope_label: str, batch: bool | None = None
    ):
        """Pool thread: create the job and start its thread. None when nothing is left to do."""
        from core.jobs import create_job, start_job

        if not run.items:
            backend.close()
            return None
        db = self.project.db
        job_id = create_job(
            db, run.job_stage, run.items, backend=backend.name, model=backend.model,
            params=params, budget_usd=params.get("budget_usd"),
        )  # fmt: skip
        try:
            limits = self._limits(backend, batch)
            handle = start_job(db, job_id, run.stage, backend, limits, self._emit)
        except BaseException:
            backend.close()
            raise
        info = {"stage": run.job_stage, "backend": backend.name, "scope": scope_label,
                "skipped": run.skipped, "params": params, "batch": batch}  # fmt: skip
        return job_id, _Live(handle, backend, run.followup, info)

    def _emit(self, event) -> None:
        # Called on the job's thread: only a signal emit, queued to the GUI thread.
        self.event.emit(event)

    def _started(self, stage: str | None, result) -> None:
        self._starting -= 1
        kind, run, launched = result
        if kind == "direct":
            self._run_direct(stage, run)
            return
        if launched is None:
            self.nothingToDo.emit(stage or "", run.skipped if run else {})
            return
        job_id, live = launched
        self.live[job_id] = live
        self._poll.start()
        self.jobStarted.emit(job_id, live.info)

    def _start_failed(self, exc: BaseException) -> None:
        self._starting -= 1
        self.failed.emit(_message(exc))

    # direct runs (check, embedded OCR) ----------------------------------------------------
    def _run_direct(self, stage: str, run: DirectRun) -> None:
        key = f"{stage}-{next(self._keys)}"
        cancel = self._direct_cancel[key] = threading.Event()

        def work(report):
            last = [0.0]

            def progress(done, total):
                # A few reports a second: one per image queued hundreds of repaints on the
                # GUI thread, handled in one go (a check of 500 images froze it for seconds).
                now = time.monotonic()
                if now - last[0] >= PROGRESS_EVERY_S or done >= total:
                    last[0] = now
                    report((done, total))
                if cancel.is_set():
                    raise Cancelled()

            try:
                outcome = DirectOutcome(stage, "done", run.run(progress))
            except Cancelled:
                outcome = DirectOutcome(stage, "cancelled")
            return outcome, run.changes()  # a cancelled run may have touched some of them

        def ended(result):
            outcome, changes = result
            self._direct_cancel.pop(key, None)
            self.directEnded.emit(key, outcome)
            self.changed.emit(changes)

        def broke(exc):
            self._direct_cancel.pop(key, None)
            self.directEnded.emit(key, DirectOutcome(stage, "failed", error=_message(exc)))

        self.directStarted.emit(key, stage)
        self.pool.submit(work, ended, broke, lambda p: self.directProgress.emit(key, *p))

    def cancel_direct(self, key: str) -> None:
        if key in self._direct_cancel:
            self._direct_cancel[key].set()

    # control (safe from the GUI thread: the handle posts to the job's loop) ----------------
    def pause(self, job_id: int) -> None:
        if job_id in self.live:
            self.live[job_id].handle.pause()

    def resume(self, job_id: int) -> None:
        if job_id in self.live:
            self.live[job_id].handle.resume()

    def stop(self, job_id: int) -> None:
        if job_id in self.live:
            self.live[job_id].handle.stop()

    def cancel(self, job_id: int) -> None:
        if job_id in self.live:
            self.live[job_id].handle.cancel()

    def is_live(self, job_id: int) -> bool:
        return job_id in self.live

    def busy(self) -> bool:
        return bool(self.live or self._starting or self._direct_cancel or self.pool.busy())

    # endings -----------------------------------------------------------------------------
    def _reap(self) -> None:
        for job_id, live in list(self.live.items()):
            if live.handle.running():
                continue
            del self.live[job_id]
            final, error = None, None
            try:
                final = live.handle.wait(0)
            except BaseException as exc:  # the engine itself broke: say so, keep the app
                error = exc
            backend = live.backend
            self.pool.submit(lambda _r, b=backend: b.close())  # may stop a llama.cpp server
            if error is not None:
                log.error("job %s ended with an error", job_id, exc_info=error)
                self.failed.emit(tr("job {id} stopped: {error}", id=job_id, error=_message(error)))
            self.jobEnded.emit(job_id, final)
            self._report_changes(job_id)
            if final is not None and final.status == "done" and live.followup is not None:
                self._start_followup(live)
        if not self.live:
            self._poll.stop()

    def _report_changes(self, job_id: int) -> None:
        from core.store.changes import job_changes

        db = self.project.db
        self.pool.submit(lambda _r: job_changes(db, job_id), self.changed.emit)

    def _start_followup(self, live: _Live) -> None:
        backend_name = live.info.get("backend")
        params = dict(live.info.get("params") or {})
        followup = live.followup

        def work(report):
            run = followup()
            if run is None or not run.items:
                return ("engine", run, None)
            backend = self._model_backend(backend_name, live.info.get("stage") or "")
            launched = self._launch(
                run, backend, params, live.info.get("scope"), live.info.get("batch")
            )
            if launched is not None:
                launched[1].info["requested"] = live.info.get("requested")
            return ("engine", run, launched)

        self._starting += 1
        self.pool.submit(work, lambda r: self._started_quiet(r), self._start_failed)

    def _started_quiet(self, result) -> None:
        if result[2] is None:  # no short captions: nothing to say
            self._starting -= 1
            return
        self._started(None, result)

    def wait(self, msecs: int = -1) -> bool:
        """Window closing: let calls on the wire finish, leave the rest pending (resumable),
        and wait for the job threads. Returns False when `msecs` ran out first."""
        for key in list(self._direct_cancel):
            self.cancel_direct(key)
        for live in self.live.values():
            live.handle.stop()
        timeout = None if msecs < 0 else msecs / 1000
        ok = True
        for job_id, live in list(self.live.items()):
            try:
                live.handle.wait(timeout)
            except BaseException:
                log.exception("job %s failed while stopping", job_id)
            if live.handle.running():
                ok = False
                continue
            live.backend.close()
            del self.live[job_id]
        return self.pool.wait(msecs) and ok
