"""Starting jobs: blocking (CLI, scripts) or on a background thread with a handle (GUI).

The GUI subscribes with `on_event`, which is called on the job's own thread: wrap it in a
Qt signal emit (queued connection) there; never touch widgets from it directly.
"""

from __future__ import annotations

import threading

from core.backends.base import Backend
from core.errors import StudioError
from core.jobs.runner import JobRunner, Limits
from core.jobs.stage import EventCallback, JobEvent, Stage
from core.store import batches as bstore
from core.store import jobs as store
from core.store.db import Database

_active: set[tuple[str, int]] = set()
_active_lock = threading.Lock()


class JobAlreadyRunning(RuntimeError):
    pass


class BatchUnsupported(StudioError):
    pass


def make_runner(
    db: Database,
    job_id: int,
    stage: Stage,
    backend: Backend,
    limits: Limits | None = None,
    on_event: EventCallback | None = None,
) -> JobRunner:
    """The runner for this job: live calls, or the Batch API when asked (this run's `limits.
    batch`, else the job's earlier choice, else the backend's `use_batch_api`). A job with a
    batch still out always polls it: those requests are paid for."""
    from core.jobs.batch_runner import BatchJobRunner

    limits = limits or Limits.from_backend(backend)
    stored, stored_expiry = bstore.batch_mode(db, job_id)
    wanted = limits.batch if limits.batch is not None else stored
    if wanted is None:
        wanted = bool(getattr(backend.config, "use_batch_api", False))
    on_expiry = limits.batch_on_expiry or stored_expiry or "batch"
    if on_expiry not in bstore.EXPIRY_CHOICES:
        raise BatchUnsupported(f"on expiry: {on_expiry!r}; expected batch or live")
    out = bool(bstore.open_batches(db, job_id))
    if (wanted or out) and not backend.capabilities.batch:
        raise BatchUnsupported(
            f"backend {backend.name!r} ({backend.kind}) has no Batch API: run without --batch"
            + (
                " (this job has batches out: resume it with the backend that sent them)"
                if out
                else ""
            )
        )
    bstore.set_batch_mode(db, job_id, wanted, on_expiry)
    if not (wanted or out):
        return JobRunner(db, job_id, stage, backend, limits, on_event)
    runner = BatchJobRunner(db, job_id, stage, backend, limits, on_event)
    runner.submit_new = wanted
    runner.on_expiry = on_expiry
    if limits.batch_poll_s is not None:
        runner.poll_s = limits.batch_poll_s
    runner.wait_timeout_s = limits.batch_wait_s
    return runner


def _claim_slot(db: Database, job_id: int) -> tuple[str, int]:
    key = (str(db.path), job_id)
    with _active_lock:
        if key in _active:
            raise JobAlreadyRunning(f"job {job_id} is already running in this process")
        _active.add(key)
    return key


def _release_slot(key) -> None:
    with _active_lock:
        _active.discard(key)


def run_job(
    db: Database,
    job_id: int,
    stage: Stage,
    backend: Backend,
    limits: Limits | None = None,
    on_event: EventCallback | None = None,
    cancel: bool = False,
) -> JobEvent:
    """Run (or resume) a job to its end on this thread. Returns the final status event.
    `cancel`: end it as cancelled at once (cancelling its batches still out)."""
    slot = _claim_slot(db, job_id)
    try:
        runner = make_runner(db, job_id, stage, backend, limits, on_event)
        if cancel:
            runner.cancel()
        return runner.run()
    finally:
        _release_slot(slot)


class JobHandle:
    """A job running on its own thread; control methods are safe from any thread."""

    def __init__(self, runner: JobRunner, slot):
        self.runner = runner
        self.result: JobEvent | None = None
        self.error: BaseException | None = None
        self._slot = slot
        self._thread = threading.Thread(target=self._main, name=f"job-{runner.job_id}", daemon=True)

    def _main(self) -> None:
        try:
            self.result = self.runner.run()
        except BaseException as exc:  # surfaced through wait()
            self.error = exc
        finally:
            _release_slot(self._slot)

    @property
    def job_id(self) -> int:
        return self.runner.job_id

    def pause(self) -> None:
        self.runner.pause()

    def resume(self) -> None:
        self.runner.resume()

    def stop(self) -> None:
        self.runner.stop()

    def cancel(self) -> None:
        self.runner.cancel()

    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> JobEvent | None:
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error
        return self.result


def start_job(
    db: Database,
    job_id: int,
    stage: Stage,
    backend: Backend,
    limits: Limits | None = None,
    on_event: EventCallback | None = None,
) -> JobHandle:
    slot = _claim_slot(db, job_id)
    try:
        runner = make_runner(db, job_id, stage, backend, limits, on_event)
        runner.pause_when_down = True  # the handle's owner can resume it
        handle = JobHandle(runner, slot)
    except BaseException:
        _release_slot(slot)
        raise
    handle._thread.start()
    return handle


def recover_on_open(db: Database) -> list[int]:
    """Call once when a project opens: jobs a dead process left running become `stopped`."""
    return store.recover_all(db)
