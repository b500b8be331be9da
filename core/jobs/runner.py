"""The async job runner: N requests in flight, limits, retries, budget, pause/resume/cancel.

Threads: the runner's event loop does network I/O only. `Stage.build` + `Backend.prepare`
(database reads, image encoding) run in a small worker pool, each thread on its own cursor.
Every database write goes through ONE writer thread (`_writer`) in batched transactions:
the stored result and the item's `done` state commit together, so a crash at any instant
leaves each item either done (with its result) or not (and it is redone on resume).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from core.backends.base import Backend, BackendError, ChatResponse, ConnectionFailed, Prepared
from core.backends.keys import redact
from core.jobs.limiter import Limits, RateLimiter
from core.jobs.progress import ProgressMixin
from core.jobs.retry import RetryPolicy
from core.jobs.stage import (
    BadOutput,
    EventCallback,
    JobEvent,
    Stage,
    StoreContext,
    request_key,
    resampled,
)
from core.jobs.writer import Writer
from core.store import jobs as store
from core.store.db import Database
from core.store.jobs import ItemOutcome, JobItem, RequestRow

log = logging.getLogger(__name__)


@dataclass
class _Prep:
    prepared: Prepared
    request_key: str
    cached: dict | None


class JobRunner(ProgressMixin):
    def __init__(
        self,
        db: Database,
        job_id: int,
        stage: Stage,
        backend: Backend,
        limits: Limits | None = None,
        on_event: EventCallback | None = None,
        retry: RetryPolicy | None = None,
    ):
        job = store.get_job(db, job_id)
        if job is None:
            raise store.JobError(f"no job {job_id} in {db.path}")
        self.db, self.job_id, self.stage, self.backend = db, job_id, stage, backend
        self.limits = limits or Limits.from_backend(backend)
        self.retry = retry or RetryPolicy()
        self.max_attempts = job["max_attempts"]
        self.budget = job["budget_usd"]
        self.on_event = on_event
        self.status = job["status"]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_status: str | None = None
        self._stop_reason: str | None = None
        self._paused = False
        self._down_in_a_row = 0  # connection failures since the last reply
        # start_job sets this: someone can press Resume. A blocking run stops instead.
        self.pause_when_down = False

    # control (thread-safe) ---------------------------------------------------------------
    def _call(self, fn, *args) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(fn, *args)
        else:
            fn(*args)

    def pause(self) -> None:
        self._call(self._set_paused, True)

    def resume(self) -> None:
        self._call(self._set_paused, False)

    def stop(self, reason: str = "stopped by user") -> None:
        """Finish the requests in flight, leave the rest pending: resumable later."""
        self._call(self._request_stop, "stopped", reason, False)

    def cancel(self) -> None:
        """Abort requests in flight now; their items go back to pending."""
        self._call(self._request_stop, "cancelled", "cancelled by user", True)

    def _set_paused(self, paused: bool, reason: str | None = None) -> None:
        if self._stop_status is not None:
            return
        if self._loop is None:  # not started yet
            self._paused = paused
            return
        self._paused = paused
        if paused:
            self._gate.clear()
        else:
            self._down_in_a_row = 0
            self._gate.set()
        self.status = "paused" if paused else "running"
        self._writer.submit_status(self.status, reason)
        self._emit("status", reason, force=reason is not None)

    def _connection_failed(self, exc: BackendError) -> None:
        self._down_in_a_row += 1
        limit = self.limits.max_connection_failures
        if not limit or self._down_in_a_row < limit or self._paused or self._stop_status:
            return
        reason = f"server unreachable ({self._down_in_a_row} connection failures in a row: {exc})"
        if self.pause_when_down:
            self._set_paused(True, reason + "; resume when it is back")
        else:
            self._request_stop("stopped", reason + "; resume the job when it is back", False)

    def _request_stop(self, status: str, reason: str | None, abort: bool) -> None:
        if self._stop_status is None:
            self._stop_status, self._stop_reason = status, reason
        if self._loop is None:  # not started yet: it will stop at once
            return
        self._gate.set()
        for _ in self._workers:
            self._queue.put_nowait(None)
        # Graceful stops let calls already on the wire finish (their reply is paid for);
        # workers waiting on a limiter, a backoff or a build are stopped at once.
        for task in self._workers:
            if abort or task not in self._sending:
                task.cancel()

    # running -----------------------------------------------------------------------------
    def run(self) -> JobEvent:
        return asyncio.run(self.arun())

    async def arun(self) -> JobEvent:
        self._loop = asyncio.get_running_loop()
        self._gate = asyncio.Event()
        if not self._paused:
            self._gate.set()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._workers: list[asyncio.Task] = []
        self._claimed: dict[str, JobItem] = {}
        self._exhausted = False
        self._refilling = False
        self._limiter = self._make_limiter()
        self._prep_pool = ThreadPoolExecutor(2, thread_name_prefix="job-prepare")
        self._writer = Writer(self.db, self.job_id, self.stage, self._on_commit)
        self._in_flight = 0
        self._sending: set[asyncio.Task] = set()
        self._refill_task: asyncio.Task | None = None
        self._reserved = 0.0
        self._last_event = 0.0
        try:
            await self._writer.call(store.recover_items, self.db, self.job_id)
            await self._writer.call(store.set_job_status, self.db, self.job_id, "running", None)
            self.status = "running"
            counts = await self._writer.call(store.item_counts, self.db, self.job_id)
            usage = await self._writer.call(store.job_usage, self.db, self.job_id)
            self._total, self._done, self._failed = (
                counts["total"],
                counts["done"],
                counts["failed"],
            )
            self._cached = self._cached_before = counts["cached"]
            self._ptok, self._ctok = usage["prompt_tokens"], usage["completion_tokens"]
            self._cost = usage["cost_usd"]
            self._start_done = self._done + self._failed
            self._started = time.monotonic()
            self._emit("status")
            flusher = asyncio.create_task(self._writer.run(self.limits.flush_interval_s))
            self._workers = [asyncio.create_task(self._worker()) for _ in range(self._n_workers)]
            if self._stop_status is None:
                self._refill()
            else:
                self._request_stop(self._stop_status, self._stop_reason, True)
            await asyncio.gather(*self._workers, return_exceptions=True)
            if self._refill_task is not None:
                await asyncio.gather(self._refill_task, return_exceptions=True)
            self._writer.close_input()
            await flusher
            await self._writer.call(store.unclaim_items, self.db, self.job_id, list(self._claimed))
            final, reason = await self._final_status()
            await self._writer.call(store.set_job_status, self.db, self.job_id, final, reason)
            self.status = final
            self._emit("status", reason, force=True)
            return self.snapshot("status", reason)
        finally:
            try:
                await self.backend.aclose()
            finally:
                self._prep_pool.shutdown(wait=True)
                self._writer.shutdown()

    def _make_limiter(self) -> RateLimiter:
        lim = self.limits
        cap = max(lim.concurrency, lim.max_concurrency or lim.concurrency)
        self._n_workers = cap if lim.adaptive else lim.concurrency
        if not lim.adaptive:
            return RateLimiter(lim.rpm, lim.tpm)
        from core.jobs.adaptive import AdaptiveLimiter

        return AdaptiveLimiter(lim.rpm, lim.tpm, window=lim.concurrency, max_window=cap)

    async def _final_status(self) -> tuple[str, str | None]:
        if self._stop_status is not None:
            return self._stop_status, self._stop_reason
        counts = await self._writer.call(store.item_counts, self.db, self.job_id)
        if counts["pending"] or counts["running"]:
            return "stopped", "items left pending"
        if counts["failed"] and not counts["done"]:
            why = await self._writer.call(store.failed_items, self.db, self.job_id)
            last = why[-1] if why else {}
            detail = f" (last: {last.get('reason')}: {last.get('error')})" if last else ""
            return "failed", f"all {counts['failed']} items failed{detail}"
        notes = [f"{counts['failed']} failed"] if counts["failed"] else []
        reused = self._cached - self._cached_before
        if reused:  # a redo answered from the cache asked nothing: say so
            notes.append(
                f"{reused} answered from the reply cache, nothing sent "
                "(re-sample to ask the model again)"
            )
        return "done", "; ".join(notes) or None

    def _refill(self) -> None:
        """Keep about two rounds of items claimed ahead of the workers."""
        want = 2 * self._n_workers
        if self._refilling or self._exhausted or self._stop_status or self._queue.qsize() >= want:
            return
        self._refilling = True
        self._refill_task = asyncio.get_running_loop().create_task(self._do_refill(want))

    async def _do_refill(self, n: int) -> None:
        try:
            items = await self._writer.call(store.claim_items, self.db, self.job_id, n)
        except Exception as exc:  # a broken database ends the job instead of hanging it
            log.exception("claiming items failed")
            self._refilling = False
            self._request_stop("failed", f"database error: {exc}", False)
            return
        self._refilling = False
        for item in items:
            self._claimed[item.key] = item
            self._queue.put_nowait(item)
        if not items:
            self._exhausted = True
            for _ in self._workers:
                self._queue.put_nowait(None)
        else:
            self._refill()

    async def _worker(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None or self._stop_status:
                return
            await self._gate.wait()  # paused: hold the item (still claimed) until resumed
            if self._stop_status:
                return
            self._refill()
            try:
                await self._process(item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in a stage fails its item, not the job
                log.exception("item %s failed unexpectedly", item.key)
                self._finish_failed(item, item.attempts, "internal", redact(str(exc))[:500])

    # one item ----------------------------------------------------------------------------
    def _prepare(self, item: JobItem) -> _Prep | None:
        request = self.stage.build(item)
        if request is None:
            return None
        resampled(request, self.stage.resample)
        prepared = self.backend.prepare(request)
        key = request_key(self.stage.name, item.key, self.backend.model, prepared.prompt_hash)
        cached = store.cache_get(self.db, key) if self.stage.cache else None
        return _Prep(prepared, key, cached)

    def _ctx(self, prep: _Prep, response: ChatResponse, cached: bool) -> StoreContext:
        return StoreContext(
            self.job_id, self.stage.name, self.backend.name, self.backend.model,
            prep.prepared.prompt_hash, prep.request_key, response, cached,
        )  # fmt: skip

    async def _process(self, item: JobItem) -> None:
        loop = asyncio.get_running_loop()
        try:
            prep = await loop.run_in_executor(self._prep_pool, self._prepare, item)
        except BackendError as exc:
            return self._finish_failed(item, item.attempts, exc.error_class, str(exc))
        except Exception as exc:
            return self._finish_failed(item, item.attempts, "build_error", redact(str(exc))[:500])
        if prep is None:
            self._claimed.pop(item.key, None)
            self._writer.submit_outcome(ItemOutcome(item.key, "done", item.attempts, "skipped"))
            return
        if prep.cached is not None and await self._use_cached(item, prep):
            return
        attempt = item.attempts
        prepared = prep.prepared
        while True:
            attempt += 1
            est = self.backend.max_cost(prepared)
            if self.budget is not None and self._cost + self._reserved + est > self.budget:
                spent = f"${self._cost:.4f} spent of ${self.budget:.4f}"
                self._request_stop("budget", f"budget reached ({spent})", False)
                return
            self._reserved += est
            await self._limiter.enter()
            try:
                charged = await self._limiter.acquire(prepared.est_tokens)
                if self._stop_status:
                    return
                outcome = await self._call_once(item, prep, attempt, charged)
            finally:
                self._reserved -= est
                await self._limiter.leave()
            if outcome is None:
                return
            error_class, message, retryable, retry_after = outcome
            if not retryable or attempt >= self.max_attempts:
                return self._finish_failed(item, attempt, error_class, message)
            if self._stop_status:
                return
            await asyncio.sleep(self.retry.delay(attempt, retry_after))
            await self._gate.wait()
            if self._stop_status:
                return

    async def _call_once(self, item, prep: _Prep, attempt: int, charged: int):
        """One call. None when the item is finished; else (class, message, retryable, wait)."""
        prepared = prep.prepared
        started = time.time()
        self._in_flight += 1
        task = asyncio.current_task()
        self._sending.add(task)
        try:
            response = await self.backend.send(prepared, self.limits.timeout_s)
        except BackendError as exc:
            self._log(item, prep, attempt, started, None, "error", exc)
            if exc.fatal:
                self._request_stop("failed", str(exc), False)
                return None
            if isinstance(exc, ConnectionFailed):
                self._connection_failed(exc)
            if exc.retry_after:
                self._limiter.cool_down(exc.retry_after)
            if exc.http_status == 429:
                self._limiter.on_throttled(exc.rate, exc.retry_after)
            return exc.error_class, str(exc), exc.retryable, exc.retry_after
        finally:
            self._in_flight -= 1
            self._sending.discard(task)
        self._down_in_a_row = 0
        self._limiter.settle(charged, response.usage.total_tokens)
        self._limiter.on_success(response.rate)
        try:
            value = self.stage.parse(item, response)
        except BadOutput as exc:
            self._log(item, prep, attempt, started, response, "bad_output", None, exc.reason)
            return "bad_output", redact(exc.reason)[:500], True, None
        cost = self._log(item, prep, attempt, started, response, "ok", None)
        self._claimed.pop(item.key, None)
        self._writer.submit_done(
            item, value, self._ctx(prep, response, False),
            ItemOutcome(
                item.key, "done", attempt, None, None, prep.request_key, False, cost,
                response.usage.prompt_tokens, response.usage.completion_tokens,
            ),
            (prep.request_key, self.stage.name, item.key, self.backend.model,
             prepared.prompt_hash, response.to_json()),
        )  # fmt: skip
        return None

    async def _use_cached(self, item: JobItem, prep: _Prep) -> bool:
        response = ChatResponse.from_json(prep.cached)
        try:
            value = self.stage.parse(item, response)
        except BadOutput:
            return False  # a cached reply the stage now rejects: ask again
        self._log(item, prep, item.attempts, time.time(), response, "cached", None)
        self._claimed.pop(item.key, None)
        self._writer.submit_done(
            item, value, self._ctx(prep, response, True),
            ItemOutcome(item.key, "done", item.attempts, None, None, prep.request_key, True),
            None,
        )  # fmt: skip
        return True

    def _log(
        self, item, prep, attempt, started, response, outcome, exc, message=None, batch=False
    ) -> float:
        """One `requests` row per call; `batch` prices it at the Batch API's rate."""
        usage = response.usage if response is not None and outcome != "cached" else None
        n_images = prep.prepared.n_images
        cost = self.backend.cost(usage, n_images, batch=batch) if usage else 0.0
        if usage:
            self._cost += cost
            self._ptok += usage.prompt_tokens
            self._ctok += usage.completion_tokens
        self._writer.submit_request(
            RequestRow(
                self.job_id, item.key, attempt, self.backend.name, self.backend.model,
                prep.prepared.prompt_hash, started, (time.time() - started) * 1000,
                usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0,
                n_images, cost, outcome,
                exc.error_class if exc else ("bad_output" if outcome == "bad_output" else None),
                exc.http_status if exc else None,
                (str(exc) if exc else message)[:500] if (exc or message) else None, batch,
            )
        )  # fmt: skip
        return cost

    def _finish_failed(self, item: JobItem, attempts: int, reason: str, message: str) -> None:
        self._claimed.pop(item.key, None)
        self._writer.submit_outcome(ItemOutcome(item.key, "failed", attempts, reason, message))
        self._emit("item_failed", f"{item.key}: {reason}: {message}", force=True)
