"""Starting jobs: blocking (CLI, scripts) or on a background thread with a handle (GUI).

The GUI subscribes with `on_event`, which is called on the job's own thread: wrap it in a
Qt signal emit (queued connection) there; never touch widgets from it directly.
"""

from __future__ import annotations

import threading

from core.backends.base import Backend
from core.jobs.runner import JobRunner, Limits
from core.jobs.stage import EventCallback, JobEvent, Stage
from core.store import jobs as store
from core.store.db import Database

_active: set[tuple[str, int]] = set()
_active_lock = threading.Lock()


class JobAlreadyRunning(RuntimeError):
    pass


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
) -> JobEvent:
    """Run (or resume) a job to its end on this thread. Returns the final status event."""
    slot = _claim_slot(db, job_id)
    try:
        return JobRunner(db, job_id, stage, backend, limits, on_event).run()
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
        handle = JobHandle(JobRunner(db, job_id, stage, backend, limits, on_event), slot)
    except BaseException:
        _release_slot(slot)
        raise
    handle._thread.start()
    return handle


def recover_on_open(db: Database) -> list[int]:
    """Call once when a project opens: jobs a dead process left running become `stopped`."""
    return store.recover_all(db)
