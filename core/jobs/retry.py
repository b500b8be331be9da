"""Exponential backoff with jitter that honours the server's Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 1.0
    cap_s: float = 60.0
    # Retry-After is a floor; a little jitter on top keeps a crowd of waiters from
    # hitting the server in the same millisecond when it reopens.
    retry_after_jitter: float = 0.1

    def delay(self, attempt: int, retry_after: float | None = None, rng=random) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 1)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        wait = rng.uniform(ceiling / 2, ceiling)  # "equal jitter": never less than half
        if retry_after is not None:
            floor = retry_after * (1 + rng.uniform(0, self.retry_after_jitter))
            wait = max(floor, min(wait, self.cap_s))
        return wait
