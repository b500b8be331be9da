"""What a pipeline stage gives the job engine, and what the engine tells its listeners.

A stage names its items (subject ids) when the job is created; per item it builds the
request, parses the reply, and stores the parsed value. The engine owns everything else:
idempotency, concurrency, rate limits, retries, budget, pause/resume/cancel, persistence,
progress events and the request log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.backends.base import ChatRequest, ChatResponse
from core.store.db import Database
from core.store.jobs import JobItem


class BadOutput(Exception):
    """Raised by `Stage.parse` when a reply is unusable; the engine retries the item."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StoreContext:
    """Provenance for stored rows: every generated row knows its job, model and prompt."""

    job_id: int
    stage: str
    backend: str
    model: str | None
    prompt_hash: str
    request_key: str
    response: ChatResponse
    cached: bool


class Stage:
    """Base class for stages. Subclass and override `build`; `parse` and `store` as needed.

    Threads: `build` runs in a worker thread (it may read the database through `db` and
    decode images); `parse` runs on the engine's event loop (keep it cheap); `store_many`
    runs on the engine's single writer thread inside the transaction that marks the items
    done, so a stored result and its item's `done` state commit together or not at all.
    """

    name: str = "stage"
    cache: bool = True  # reuse a cached reply for the same stage + item + model + prompt
    # n > 0: the n-th re-sample of these items: each request gets another seed (and a
    # temperature above 0), hence a new request key, so the model is asked again
    resample: int = 0

    def build(self, item: JobItem) -> ChatRequest | None:
        """The request for one item, or None to skip it (it is marked done, nothing stored)."""
        raise NotImplementedError

    def parse(self, item: JobItem, response: ChatResponse) -> Any:
        """The value to store. Raise BadOutput to retry the item."""
        return response.text

    def store(self, db: Database, item: JobItem, value: Any, ctx: StoreContext) -> None:
        """Persist one value through core.store (joins the writer's open transaction)."""
        from core.store.jobs import write_outputs

        with db.tx() as cur:
            write_outputs(cur, ctx.job_id, [(item.key, value)])

    def store_many(self, db: Database, results: list[tuple[JobItem, Any, StoreContext]]) -> None:
        """Persist a batch; override to write many rows per statement."""
        if type(self).store is Stage.store:
            from core.store.jobs import write_outputs

            with db.tx() as cur:
                write_outputs(cur, results[0][2].job_id, [(it.key, v) for it, v, _ in results])
            return
        for item, value, ctx in results:
            self.store(db, item, value, ctx)


RESAMPLE_TEMPERATURE = 0.7  # a greedy request asked again at 0 would answer the same


def resampled(request: ChatRequest, n: int) -> ChatRequest:
    """`request` as its n-th re-sample: another seed, and a temperature that lets it differ."""
    if n > 0:
        request.seed = (request.seed or 0) + 7919 * n
        request.temperature = max(request.temperature or 0.0, RESAMPLE_TEMPERATURE)
    return request


def request_key(stage: str, item_key: str, model: str | None, prompt_hash: str) -> str:
    raw = "\x1f".join((stage, item_key, model or "", prompt_hash))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class JobEvent:
    """A snapshot for listeners (CLI progress bar, GUI). `kind`: progress | status | item_failed."""

    kind: str
    job_id: int
    status: str
    total: int
    done: int
    failed: int
    in_flight: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    elapsed_s: float
    rate_per_s: float
    eta_s: float | None
    message: str | None = None
    # adaptive limits (core.jobs.adaptive): the concurrency window, the request rate it paces
    # at (None: unpaced) and the 429s met so far in this run
    window: int | None = None
    limit_per_s: float | None = None
    throttled: int = 0

    @property
    def pending(self) -> int:
        return max(0, self.total - self.done - self.failed)

    @property
    def fraction(self) -> float:
        return (self.done + self.failed) / self.total if self.total else 1.0

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["pending"] = self.pending
        return out


EventCallback = Callable[[JobEvent], None]


# Stages by name, so a job can be resumed after a restart from what the database says.
STAGES: dict[str, Callable[..., Stage]] = {}


def register_stage(name: str, factory: Callable[..., Stage]) -> None:
    """Name an engine stage; another factory under a name already taken is refused."""
    known = STAGES.get(name)
    if known is not None and known is not factory:
        raise ValueError(f"engine stage {name!r} is already registered ({known.__qualname__})")
    STAGES[name] = factory


def unregister_stage(name: str) -> None:
    STAGES.pop(name, None)


def make_stage(name: str, *args, **kwargs) -> Stage:
    if name not in STAGES:
        raise KeyError(
            f"no stage named {name!r} is registered (known: {', '.join(sorted(STAGES))})"
        )
    return STAGES[name](*args, **kwargs)
