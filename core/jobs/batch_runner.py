"""Running a job through the OpenAI Batch API instead of live calls (half price, slower).

Crash safety: the batch id is written to the job as soon as the batch exists, so a resumed
job polls the batch it already paid for instead of submitting a second one. Items stay
`running` while the batch is out; results are stored exactly like live results (same cache,
same `Stage.store`, same request log, with the batch discount applied to the cost).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from core.backends.base import BackendError
from core.backends.batch import BatchClient, BatchFailed
from core.jobs.runner import JobRunner, _Prep
from core.jobs.stage import BadOutput, JobEvent
from core.jobs.writer import Writer
from core.store import jobs as store
from core.store.jobs import ItemOutcome


class BatchJobRunner(JobRunner):
    """Same constructor as JobRunner; `poll_s` sets how often the batch is checked."""

    poll_s: float = 30.0
    wait_timeout_s: float | None = None  # give up polling (job `stopped`, batch kept) after this

    async def arun(self) -> JobEvent:  # noqa: C901 - one linear story, kept together
        self._loop = asyncio.get_running_loop()
        self._writer = Writer(self.db, self.job_id, self.stage, lambda *c: self._count(*c))
        self._prep_pool = ThreadPoolExecutor(2, thread_name_prefix="batch-prepare")
        self._in_flight, self._reserved, self._last_event = 0, 0.0, 0.0
        self._claimed: dict = {}
        items = []
        try:
            w = self._writer
            job = await w.call(store.get_job, self.db, self.job_id)
            await w.call(store.recover_items, self.db, self.job_id)
            await w.call(store.set_job_status, self.db, self.job_id, "running", None)
            await self._load_counters(w)
            items = await w.call(store.claim_items, self.db, self.job_id, 1 << 30)
            loop = asyncio.get_running_loop()
            preps = await asyncio.gather(
                *(loop.run_in_executor(self._prep_pool, self._prepare, it) for it in items),
                return_exceptions=True,
            )
            live: dict[str, tuple] = {}
            for item, prep in zip(items, preps, strict=True):
                if isinstance(prep, BaseException):
                    self._finish_failed(
                        item, item.attempts, getattr(prep, "error_class", "build_error"), str(prep)
                    )
                elif prep is None:
                    self._writer.submit_outcome(
                        ItemOutcome(item.key, "done", item.attempts, "skipped")
                    )
                elif prep.cached is None or not await self._use_cached(item, prep):
                    live[item.key] = (item, prep)
            await w.flush()
            client = BatchClient(self.backend, self.poll_s)
            batch_id = job["batch_id"]
            started = time.time()
            if live and batch_id is None:
                batch_id = await client.submit(
                    [(k, p.prepared) for k, (_, p) in live.items()], {"job": self.job_id}
                )
                await w.call(store.set_batch_id, self.db, self.job_id, batch_id)
            if live:
                self._in_flight = len(live)
                self._emit("status", f"batch {batch_id} submitted")
                batch = await client.wait(
                    batch_id, lambda b: self._emit("progress", b["status"]), self.wait_timeout_s
                )
                if batch["status"] != "completed":  # a dead batch: the next run submits anew
                    await w.call(store.set_batch_id, self.db, self.job_id, None)
                    raise BatchFailed(f"batch {batch_id} ended {batch['status']}")
                results = await client.results(batch)
                self._in_flight = 0
                for key, (item, prep) in live.items():
                    self._settle(item, prep, results.get(key), started)
                await w.flush()
                await w.call(store.set_batch_id, self.db, self.job_id, None)
            final, reason = await self._final_status()
            await w.call(store.set_job_status, self.db, self.job_id, final, reason)
            self.status = final
            return self.snapshot("status", reason)
        except BackendError as exc:
            # the batch (if any) stays recorded: a resumed job polls it instead of paying again
            keys = [it.key for it in items]
            await self._writer.call(store.unclaim_items, self.db, self.job_id, keys)
            await self._writer.call(store.set_job_status, self.db, self.job_id, "stopped", str(exc))
            self.status = "stopped"
            return self.snapshot("status", str(exc))
        finally:
            try:
                await self.backend.aclose()
            finally:
                self._prep_pool.shutdown(wait=True)
                self._writer.shutdown()

    async def _load_counters(self, w) -> None:
        counts = await w.call(store.item_counts, self.db, self.job_id)
        usage = await w.call(store.job_usage, self.db, self.job_id)
        self._total, self._done, self._failed = counts["total"], counts["done"], counts["failed"]
        self._cached = counts["cached"]
        self._ptok, self._ctok, self._cost = (
            usage["prompt_tokens"], usage["completion_tokens"], usage["cost_usd"],
        )  # fmt: skip
        self._start_done = self._done + self._failed
        self._started = time.monotonic()
        self._stop_status = None

    def _count(self, done: int, failed: int, cached: int) -> None:
        self._done += done
        self._failed += failed
        self._cached += cached

    def _settle(self, item, prep: _Prep, result, started: float) -> None:
        attempt = item.attempts + 1
        if result is None:
            return self._finish_failed(item, attempt, "batch_missing", "no result for this request")
        if isinstance(result, BackendError):
            self._log(item, prep, attempt, started, None, "error", result, batch=True)
            return self._finish_failed(item, attempt, result.error_class, str(result))
        try:
            value = self.stage.parse(item, result)
        except BadOutput as exc:
            self._log(
                item, prep, attempt, started, result, "bad_output", None, exc.reason, batch=True
            )
            return self._finish_failed(item, attempt, "bad_output", exc.reason)
        cost = self._log(item, prep, attempt, started, result, "ok", None, batch=True)
        usage = result.usage
        self._writer.submit_done(
            item, value, self._ctx(prep, result, False),
            ItemOutcome(item.key, "done", attempt, None, None, prep.request_key, False, cost,
                        usage.prompt_tokens, usage.completion_tokens),
            (prep.request_key, self.stage.name, item.key, self.backend.model,
             prep.prepared.prompt_hash, result.to_json()),
        )  # fmt: skip
