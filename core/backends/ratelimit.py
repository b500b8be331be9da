"""What a provider says about its rate limits, read from the x-ratelimit-* response headers
(OpenAI, Azure OpenAI, OpenRouter, Groq, vLLM behind gateways...): limit, remaining and time
to reset, for requests and tokens. Absent headers give None: the job engine then learns the
limit from 429s alone (core.jobs.adaptive)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str | None) -> float | None:
    """'20ms', '1.5s', '6m0s', '1h2m3s' or plain seconds -> seconds."""
    if not text:
        return None
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT[u] for n, u in parts)


def _int(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RateInfo:
    limit_requests: int | None = None  # per minute
    remaining_requests: int | None = None
    reset_requests_s: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens_s: float | None = None


def parse_rate_headers(headers) -> RateInfo | None:
    if headers is None:
        return None
    get = headers.get
    info = RateInfo(
        _int(get("x-ratelimit-limit-requests")),
        _int(get("x-ratelimit-remaining-requests")),
        parse_duration(get("x-ratelimit-reset-requests")),
        _int(get("x-ratelimit-limit-tokens")),
        _int(get("x-ratelimit-remaining-tokens")),
        parse_duration(get("x-ratelimit-reset-tokens")),
    )
    return None if info == RateInfo() else info
