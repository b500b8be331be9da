"""Requests-per-minute and tokens-per-minute limits as token buckets, plus a shared cool-down.

A 429 with Retry-After pauses every caller of the limiter, not just the one that got it:
the server's limit is shared, so hammering it with the other in-flight requests only earns
more 429s.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


class _Bucket:
    def __init__(self, per_minute: float, burst_s: float):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self.level = self.capacity
        self.stamp = time.monotonic()

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        amount = min(amount, self.capacity)  # a request larger than the bucket waits for a full one
        return 0.0 if self.level >= amount else (amount - self.level) / self.rate


class RateLimiter:
    def __init__(self, rpm: float | None = None, tpm: float | None = None, burst_s: float = 5.0):
        self._req = _Bucket(rpm, burst_s) if rpm else None
        self._tok = _Bucket(tpm, burst_s) if tpm else None
        self._cool_until = 0.0
        self._lock = asyncio.Lock()

    def cool_down(self, seconds: float) -> None:
        self._cool_until = max(self._cool_until, time.monotonic() + seconds)

    async def acquire(self, tokens: int = 0) -> int:
        """Wait for a slot; returns the tokens charged (pass them to `settle`)."""
        if self._req is None and self._tok is None and self._cool_until == 0.0:
            return 0
        # One waiter at a time keeps the order fair and the arithmetic simple.
        async with self._lock:
            while True:
                now = time.monotonic()
                wait = self._cool_until - now
                if wait <= 0:
                    for bucket, amount in ((self._req, 1), (self._tok, tokens)):
                        if bucket is not None:
                            bucket.refill(now)
                            wait = max(wait, bucket.wait_for(amount))
                if wait <= 0:
                    if self._req is not None:
                        self._req.level -= 1
                    charged = 0
                    if self._tok is not None:
                        charged = int(min(tokens, self._tok.capacity))
                        self._tok.level -= charged
                    return charged
                await asyncio.sleep(wait)

    # hooks the adaptive limiter (core.jobs.adaptive) fills in; fixed limits ignore them
    async def enter(self) -> None:
        return None

    async def leave(self) -> None:
        return None

    def on_success(self, rate_info) -> None:
        return None

    def on_throttled(self, rate_info, retry_after: float | None) -> None:
        return None

    def settle(self, charged: int, actual: int) -> None:
        """Charge the difference once the server has told us the real token count."""
        if self._tok is not None:
            self._tok.level -= actual - charged


@dataclass
class Limits:
    concurrency: int = 8
    rpm: int | None = None
    tpm: int | None = None
    timeout_s: float | None = None  # per request; None: the backend's own
    flush_interval_s: float = 0.1
    event_interval_s: float = 0.2
    # the Batch API (see core.jobs.batch_runner); None: the job's own choice, else the backend's
    batch: bool | None = None
    batch_on_expiry: str | None = None  # batch | live
    batch_poll_s: float | None = None
    batch_wait_s: float | None = None  # stop polling after this; the batches keep running
    # adapt to the provider's limits (headers, 429s): the window moves between 1 and
    # max_concurrency (None: `concurrency`, fixed); rpm / tpm stay ceilings
    adaptive: bool = True
    max_concurrency: int | None = None
    # this many connection failures in a row (no reply in between) mean the server is down:
    # the job pauses (stops, when nobody could resume it) instead of burning every item
    max_connection_failures: int = 5

    @classmethod
    def from_backend(cls, backend, **overrides) -> Limits:
        c = backend.config
        base = cls(concurrency=c.max_concurrency, rpm=c.rpm, tpm=c.tpm, timeout_s=c.timeout_s)
        for k, v in overrides.items():
            if v is not None:
                setattr(base, k, v)
        # A cloud endpoint left at the default concurrency may grow past it, up to AUTO_MAX in
        # flight; a concurrency the user chose (backend setting or per run), or a local server
        # (its slots), is kept as the cap.
        untuned = c.max_concurrency == getattr(backend, "default_concurrency", 8)
        if base.max_concurrency is None and overrides.get("concurrency") is None and untuned:
            if getattr(backend, "provider_limits", False):
                base.max_concurrency = max(AUTO_MAX, base.concurrency)
        return base


AUTO_MAX = 64
