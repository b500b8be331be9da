"""Limits that converge on the provider's real ones without the user guessing them.

Two signals, used when present:
- the x-ratelimit-* headers (limit, remaining, reset for requests and tokens): the request and
  token buckets take the declared per-minute limit as their rate and the remaining count as
  their level, and a bucket the server says is empty waits for its reset;
- 429s: without headers the request rate is learnt by AIMD: the first 429 sets it to the rate
  that was getting through, each later 429 cuts it multiplicatively (at most once per second:
  the requests already on the wire answer 429 together), and every second without one adds a
  small fixed step. The concurrency window is AIMD too: +1 per window of successes, halved on
  a 429, between 1 and the cap.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from core.jobs.limiter import RateLimiter, _Bucket

DECREASE = 0.9  # rate kept after a 429 (AIMD's beta)
STEP_SHARE = 0.01  # additive increase per second, as a share of the rate first learnt
CUT_EVERY_S = 1.0


class AdaptiveLimiter(RateLimiter):
    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        window: int = 8,
        max_window: int = 8,
        burst_s: float = 1.0,
    ):
        super().__init__(rpm, tpm, burst_s)
        self._burst_s = burst_s
        self._ceiling = (rpm, tpm)  # the user's own limits stay ceilings
        self.window = float(max(1, min(window, max_window)))
        self.max_window = max_window
        self.sending = 0
        self._slot = asyncio.Condition()
        self._learnt_rate: float | None = None  # requests/s, from 429s (no headers)
        self._step = 0.0
        self._last_cut = 0.0
        self._last_grow = time.monotonic()
        self._ok_times: deque[float] = deque()
        self.throttled = 0
        self.header_limited = False

    # the concurrency window ---------------------------------------------------------------
    async def enter(self) -> None:
        async with self._slot:
            await self._slot.wait_for(lambda: self.sending < int(self.window))
            self.sending += 1

    async def leave(self) -> None:
        async with self._slot:
            self.sending -= 1
            self._slot.notify_all()

    # what the server said ----------------------------------------------------------------
    def on_success(self, rate_info) -> None:
        now = time.monotonic()
        self._ok_times.append(now)
        while self._ok_times and now - self._ok_times[0] > 5.0:
            self._ok_times.popleft()
        if self.window < self.max_window:
            self.window = min(self.max_window, self.window + 1.0 / self.window)
        if rate_info is not None:
            self._learn(rate_info)
        elif self._learnt_rate is not None:
            grown = (now - self._last_grow) * self._step
            self._set_rate(self._learnt_rate + grown)
        self._last_grow = now

    def on_throttled(self, rate_info, retry_after: float | None) -> None:
        now = time.monotonic()
        self.throttled += 1
        if rate_info is not None:
            self._learn(rate_info)
        if now - self._last_cut < CUT_EVERY_S:
            return
        self._last_cut = now
        self.window = max(1.0, self.window / 2)
        if self.header_limited:
            return  # the declared limit already paces us; this one was a stale count
        if self._learnt_rate is None:
            got = len(self._ok_times) / 5.0 if self._ok_times else 1.0
            self._step = max(0.01, STEP_SHARE * got)
            self._set_rate(max(0.2, got * DECREASE))
        else:
            self._set_rate(max(0.2, self._learnt_rate * DECREASE))
        self._last_grow = now

    @property
    def rate_per_s(self) -> float | None:
        return None if self._req is None else self._req.rate

    def _set_rate(self, per_s: float) -> None:
        ceiling = self._ceiling[0]
        if ceiling:
            per_s = min(per_s, ceiling / 60.0)
        self._learnt_rate = per_s
        self._req = self._retune(self._req, per_s * 60.0)

    def _retune(self, bucket: _Bucket | None, per_minute: float) -> _Bucket:
        if bucket is None:
            fresh = _Bucket(per_minute, self._burst_s)
            fresh.level = min(fresh.level, 1.0)  # learnt under pressure: start nearly empty
            return fresh
        bucket.refill(time.monotonic())
        bucket.rate = per_minute / 60.0
        bucket.capacity = max(1.0, bucket.rate * self._burst_s)
        bucket.level = min(bucket.level, bucket.capacity)
        return bucket

    def _learn(self, info) -> None:
        for limit, remaining, reset, ceiling, attr in (
            (info.limit_requests, info.remaining_requests, info.reset_requests_s,
             self._ceiling[0], "_req"),
            (info.limit_tokens, info.remaining_tokens, info.reset_tokens_s,
             self._ceiling[1], "_tok"),
        ):  # fmt: skip
            if limit:
                self.header_limited = True
                per_minute = min(limit, ceiling) if ceiling else limit
                bucket = self._retune(getattr(self, attr), per_minute)
                setattr(self, attr, bucket)
                if remaining is not None:
                    bucket.level = min(bucket.level, float(remaining))
            if remaining == 0 and reset:
                self.cool_down(reset)
