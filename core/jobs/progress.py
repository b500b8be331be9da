"""Progress bookkeeping for the job runner: snapshots and throttled event delivery."""

from __future__ import annotations

import logging
import time

from core.jobs.stage import JobEvent

log = logging.getLogger(__name__)


class ProgressMixin:
    """Needs: job_id, status, limits, on_event, and the counters set up by the runner."""

    def _on_commit(self, done: int, failed: int, cached: int) -> None:
        """Called on the loop after each writer commit, with what it made durable."""
        self._done += done
        self._failed += failed
        self._cached += cached
        self._emit("progress")

    def snapshot(self, kind: str, message: str | None = None) -> JobEvent:
        elapsed = time.monotonic() - self._started
        finished_now = self._done + self._failed - self._start_done
        rate = finished_now / elapsed if elapsed > 0 else 0.0
        remaining = self._total - self._done - self._failed
        eta = remaining / rate if rate > 0 else None
        limiter = getattr(self, "_limiter", None)
        window = getattr(limiter, "window", None)
        return JobEvent(
            kind, self.job_id, self.status, self._total, self._done, self._failed,
            self._in_flight, self._cached, self._ptok, self._ctok, round(self._cost, 6),
            elapsed, rate, eta, message, None if window is None else int(window),
            getattr(limiter, "rate_per_s", None), getattr(limiter, "throttled", 0),
        )  # fmt: skip

    def _emit(self, kind: str, message: str | None = None, force: bool = False) -> None:
        if self.on_event is None:
            return
        now = time.monotonic()
        if (
            kind == "progress"
            and not force
            and now - self._last_event < self.limits.event_interval_s
        ):
            return
        self._last_event = now
        try:
            self.on_event(self.snapshot(kind, message))
        except Exception:  # a listener's bug must not stop the job
            log.exception("job event listener failed")
