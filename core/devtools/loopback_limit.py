"""A provider-style request limit for the loopback server: a token bucket per minute, OpenAI's
x-ratelimit-* headers on every answer (or none, like providers that send none), 429 past it."""

from __future__ import annotations

import time


def duration(seconds: float) -> str:
    """OpenAI's reset format: 20ms, 1.5s, 6m0s."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    return f"{int(seconds // 60)}m{seconds % 60:.0f}s"


class RequestLimit:
    def __init__(self, rpm: float, burst_s: float = 2.0, headers: bool = True):
        self.rpm, self.headers = rpm, headers
        self.rate = rpm / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self.level = self.capacity
        self.stamp = time.monotonic()
        self.allowed = 0
        self.refused = 0

    def take(self) -> tuple[bool, dict]:
        """(allowed, headers for the answer)."""
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        ok = self.level >= 1.0
        if ok:
            self.level -= 1.0
            self.allowed += 1
        else:
            self.refused += 1
        if not self.headers:
            return ok, {}
        reset = (self.capacity - self.level) / self.rate
        return ok, {
            "x-ratelimit-limit-requests": str(int(self.rpm)),
            "x-ratelimit-remaining-requests": str(int(self.level)),
            "x-ratelimit-reset-requests": duration(reset),
        }
