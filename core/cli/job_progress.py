"""A terminal progress bar fed by job events (the GUI subscribes to the same events)."""

from __future__ import annotations

from core.cli.progress import Progress
from core.jobs.stage import JobEvent


class JobProgressBar:
    """Use as the `on_event` of run_job/start_job; close() when the job returns."""

    def __init__(self, desc: str, enabled: bool = True):
        self._bar = Progress(desc, enabled=enabled)

    def __call__(self, event: JobEvent) -> None:
        eta = f"{event.eta_s:.0f}s" if event.eta_s is not None else "?"
        extra = {}
        if event.window is not None:
            extra["window"] = event.window
        if event.limit_per_s is not None:
            extra["limit"] = f"{event.limit_per_s:.1f}/s"
        if event.throttled:
            extra["429s"] = event.throttled
        self._bar(
            event.done + event.failed,
            event.total,
            failed=event.failed,
            in_flight=event.in_flight,
            tokens=event.prompt_tokens + event.completion_tokens,
            cost=f"${event.cost_usd:.4f}",
            eta=eta,
            **extra,
        )

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> JobProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
