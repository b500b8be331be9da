"""Running a job through the OpenAI Batch API instead of live calls (half price, hours).

Crash safety, step by step: the input file is uploaded, then the batch is recorded with a
fresh token and its items tied to it (one transaction), then it is created with that token
in its metadata, then its id is recorded. A process killed anywhere in between resumes
without paying twice: before the record, the items are still unsent; after it, a batch with
no id is looked up by its token (adopted if the provider has it, dropped if not). Results are
stored exactly like live ones (same parse, same cache, same `Stage.store`, same request log
at the batch price), and a batch is marked settled only after they are committed; settling
again only touches items still waiting, so nothing is stored or charged twice.

Expired or cancelled batches keep (and charge) what they finished; the rest go back to the
queue, to a new batch or to live calls (`on_expiry`, kept with the job).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

from core.backends import batch as api
from core.backends.base import BackendError
from core.jobs.runner import JobRunner, _Prep
from core.jobs.stage import BadOutput, JobEvent
from core.jobs.writer import Writer
from core.store import batches as bstore
from core.store import jobs as store
from core.store.jobs import ItemOutcome


class BatchJobRunner(JobRunner):
    """Same constructor as JobRunner, plus how to poll and what to do on expiry."""

    poll_s: float | None = None  # None: 0.5 s, doubling to 30 s (small batches end fast)
    wait_timeout_s: float | None = None  # stop polling after this (job `stopped`, batches kept)
    on_expiry: str = "batch"  # batch | live: where an expired batch's leftovers go
    submit_new: bool = True  # False: only settle the batches out, the rest goes live
    max_requests: int = api.MAX_REQUESTS
    max_bytes: int = api.MAX_BYTES
    claim_round: int = 10_000  # items prepared per round (bounds memory on huge jobs)

    # control ------------------------------------------------------------------------------
    def _request_stop(self, status: str, reason: str | None, abort: bool) -> None:
        if not getattr(self, "_in_batch_phase", False):
            return super()._request_stop(status, reason, abort)
        if self._stop_status is None:
            self._stop_status, self._stop_reason = status, reason
        self._wake.set()

    def _set_paused(self, paused: bool, reason: str | None = None) -> None:
        if not getattr(self, "_in_batch_phase", False):
            super()._set_paused(paused, reason)  # the live leftovers pause like any job
        # batches run on the provider's side: pausing them means nothing; stop or cancel

    # running ------------------------------------------------------------------------------
    async def arun(self) -> JobEvent:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._in_batch_phase = True
        try:
            ended = await self._batch_phase()
        finally:
            self._in_batch_phase = False
        if ended is not None:
            return ended
        self._emit("status", "sending what the expired batch left unanswered as live calls")
        return await super().arun()  # the leftovers of an expired batch, live

    async def _batch_phase(self) -> JobEvent | None:
        """None: hand over to live calls. Else the final event."""
        w = self._writer = Writer(self.db, self.job_id, self.stage, self._count)
        self._prep_pool = ThreadPoolExecutor(2, thread_name_prefix="batch-prepare")
        self._in_flight, self._reserved, self._last_event = 0, 0.0, 0.0
        self._claimed: dict = {}
        self._est: dict[str, float] = {}  # item -> the most its request can cost, once sent
        self._budget_note: str | None = None  # the budget stopped submitting (batches out still
        # come in: they are paid for, and what they really cost may leave room for more)
        self._client = api.BatchClient(self.backend)
        go_live = False
        try:
            await w.call(store.recover_items, self.db, self.job_id)
            await w.call(store.set_job_status, self.db, self.job_id, "running", None)
            self.status = "running"
            await self._load_counters(w)
            self._emit("status", force=True)
            await self._reconcile()
            # requests still out from an earlier run may yet be charged: hold them against
            # the budget, or a resumed run would spend it a second time
            self._reserved = await w.call(bstore.reserved_usd, self.db, self.job_id)
            deadline = (
                None if self.wait_timeout_s is None else time.monotonic() + self.wait_timeout_s
            )
            polls = 0
            while self._stop_status is None:
                expired = await w.call(bstore.has_expired, self.db, self.job_id)
                go_live = not self.submit_new or (expired and self.on_expiry == "live")
                if not go_live:
                    await self._submit_pending()
                if self._stop_status is not None:
                    break
                open_ = await w.call(bstore.open_batches, self.db, self.job_id)
                if not open_:
                    if self._budget_note is not None:  # collected what was out; nothing fits
                        self._stop_status, self._stop_reason = "budget", self._budget_note
                    break
                if await self._poll(open_):
                    continue  # something settled: submit what came back, poll the rest
                if deadline is not None and time.monotonic() >= deadline:
                    n = sum(b["n_requests"] for b in open_)
                    self._stop_status = "stopped"
                    self._stop_reason = f"{len(open_)} batch(es) still running ({n} requests)"
                    break
                self._wake.clear()
                polls += 1
                wait = self.poll_s or min(30.0, 0.5 * 2 ** (polls - 1))
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except TimeoutError:
                    pass
            if self._stop_status == "cancelled":
                await self._cancel_open()
            await w.flush()
            if self._stop_status is None and go_live:
                return None
            final, reason = await self._final_status()
            await w.call(store.set_job_status, self.db, self.job_id, final, reason)
            self.status = final
            self._emit("status", reason, force=True)
            return self.snapshot("status", reason)
        except BackendError as exc:
            # every batch stays recorded: a resumed job polls it instead of paying again
            await w.flush()
            await w.call(store.unclaim_items, self.db, self.job_id, list(self._claimed))
            reason = str(exc)
            await w.call(store.set_job_status, self.db, self.job_id, "stopped", reason)
            self.status = "stopped"
            self._emit("status", reason, force=True)
            return self.snapshot("status", reason)
        finally:
            try:
                await self.backend.aclose()
            finally:
                self._prep_pool.shutdown(wait=True)
                w.shutdown()

    async def _load_counters(self, w) -> None:
        counts = await w.call(store.item_counts, self.db, self.job_id)
        usage = await w.call(store.job_usage, self.db, self.job_id)
        self._total, self._done, self._failed = counts["total"], counts["done"], counts["failed"]
        self._cached = self._cached_before = counts["cached"]
        self._in_flight = counts["in_batch"]
        self._ptok, self._ctok, self._cost = (
            usage["prompt_tokens"], usage["completion_tokens"], usage["cost_usd"],
        )  # fmt: skip
        self._start_done = self._done + self._failed
        self._started = time.monotonic()

    def _count(self, done: int, failed: int, cached: int) -> None:
        self._done += done
        self._failed += failed
        self._cached += cached
        self._emit("progress")

    # submitting ---------------------------------------------------------------------------
    async def _reconcile(self) -> None:
        """Batches recorded but never confirmed (killed mid-create): adopt or drop them."""
        w = self._writer
        for row in await w.call(bstore.open_batches, self.db, self.job_id):
            if row["batch_id"] is not None:
                continue
            found = await self._client.find(row["token"])
            if found is None:
                await w.call(bstore.drop_batch, self.db, row["id"])
            else:
                await w.call(bstore.set_batch_id, self.db, row["id"], found["id"], found["status"])

    async def _submit_pending(self) -> None:
        w = self._writer
        loop = asyncio.get_running_loop()
        self._budget_note = None
        while self._stop_status is None:
            items = await w.call(store.claim_items, self.db, self.job_id, self.claim_round)
            if not items:
                return
            for item in items:
                self._claimed[item.key] = item
            preps = await asyncio.gather(
                *(loop.run_in_executor(self._prep_pool, self._prepare, it) for it in items),
                return_exceptions=True,
            )
            lines, budget_hit = [], False
            for item, prep in zip(items, preps, strict=True):
                if isinstance(prep, BaseException):
                    self._finish_failed(
                        item, item.attempts, getattr(prep, "error_class", "build_error"), str(prep)
                    )
                elif prep is None:
                    self._claimed.pop(item.key, None)
                    w.submit_outcome(ItemOutcome(item.key, "done", item.attempts, "skipped"))
                elif prep.cached is not None and await self._use_cached(item, prep):
                    pass
                elif budget_hit or not self._fits_budget(item.key, prep):
                    budget_hit = True  # left pending; the job ends `budget`
                else:
                    line = api.jsonl_line(self.backend.model, item.key, prep.prepared)
                    if len(line) > self.max_bytes:
                        self._reserved -= self._est.pop(item.key, 0.0)
                        self._finish_failed(item, item.attempts, "too_large",
                                            f"{len(line) / 1e6:.1f} MB request, over the batch file limit")  # fmt: skip
                        continue
                    lines.append((item.key, line))
            await w.flush()
            for chunk in api.split(lines, self.max_requests, self.max_bytes):
                await self._submit(chunk)
            await w.call(store.unclaim_items, self.db, self.job_id, list(self._claimed))
            self._claimed.clear()
            if budget_hit:
                spent = (
                    f"${self._cost + self._reserved:.4f} spent or committed of ${self.budget:.4f}"
                )
                self._budget_note = f"budget reached ({spent})"
                return

    def _fits_budget(self, key: str, prep: _Prep) -> bool:
        est = _estimate(self.backend, prep)
        if self.budget is not None and self._cost + self._reserved + est > self.budget:
            return False
        self._reserved += est
        self._est[key] = est
        return True

    async def _submit(self, chunk: list[tuple[str, bytes]]) -> None:
        w = self._writer
        data = b"".join(line for _, line in chunk)
        keys = [k for k, _ in chunk]
        file_id = await self._client.upload(data)
        token = secrets.token_hex(8)
        reserved = sum(self._est.pop(k, 0.0) for k in keys)
        ref = await w.call(bstore.add_batch, self.db, self.job_id, token, file_id, len(data),
                           keys, reserved)  # fmt: skip
        for k in keys:
            self._claimed.pop(k, None)
        batch = await self._client.create(file_id, {"job": self.job_id, "token": token})
        await w.call(bstore.set_batch_id, self.db, ref, batch["id"], batch["status"])
        self._in_flight += len(keys)
        self._emit("status", f"batch {batch['id']} submitted ({len(keys)} requests, "
                             f"{len(data) / 1e6:.1f} MB)", force=True)  # fmt: skip

    # polling and settling -----------------------------------------------------------------
    async def _poll(self, rows: list[dict]) -> bool:
        """One look at each open batch; settles the finished ones. True if any settled."""
        settled = False
        for row in rows:
            batch = await self._client.retrieve(row["batch_id"])
            status = batch["status"]
            if status != row["status"]:
                await self._writer.call(bstore.set_batch_status, self.db, row["id"], status)
                counts = batch.get("request_counts") or {}
                self._emit("progress", f"batch {row['batch_id']} {status} "
                                       f"({counts.get('completed', 0)}/{row['n_requests']})",
                           force=True)  # fmt: skip
            if status in api.TERMINAL:
                await self._settle_batch(row, batch)
                settled = True
        return settled

    async def _settle_batch(self, row: dict, batch: dict) -> None:
        w = self._writer
        results = await self._client.results(batch)
        items = await w.call(bstore.batch_items, self.db, row["id"])
        started = float(batch.get("created_at") or time.time())
        retries: list[tuple[str, int]] = []
        answered = [it for it in items if it.key in results]  # the rest is requeued below
        loop = asyncio.get_running_loop()
        preps = await asyncio.gather(
            *(loop.run_in_executor(self._prep_pool, self._prep_again, it) for it in answered)
        )
        for item, prep in zip(answered, preps, strict=True):
            result = results[item.key]
            if self._settle(item, prep, result, started):
                retries.append((item.key, item.attempts + 1))
        await w.flush()
        await w.call(bstore.requeue, self.db, self.job_id, retries)
        message = None
        if batch["status"] == "failed":
            errors = (batch.get("errors") or {}).get("data") or []
            message = "; ".join(str(e.get("message")) for e in errors)[:500] or "batch failed"
            left = await w.call(bstore.batch_items, self.db, row["id"])
            for item in left:  # the provider refused the file: asking again would fail again
                self._finish_failed(item, item.attempts + 1, "batch_failed", message)
            await w.flush()
        back = await w.call(bstore.settle_batch, self.db, row["id"], batch["status"], message)
        # answered: charged above; unanswered: back in the queue, reserved again when resent
        self._reserved = max(0.0, self._reserved - row["reserved_usd"])
        self._in_flight = max(0, self._in_flight - row["n_requests"])
        note = f"batch {row['batch_id']} {batch['status']}: {len(results)} answered"
        if back:
            note += f", {back} back in the queue"
        self._emit("status", note, force=True)

    def _prep_again(self, item) -> _Prep:
        """The request as it was sent (for its hash, cache key and image count)."""
        prep = self._prepare(item)
        if prep is None:
            raise BackendError(f"item {item.key} no longer builds a request")
        return prep

    def _settle(self, item, prep: _Prep, result, started: float) -> bool:
        """Store one answer. True when the item should be asked again (attempts left)."""
        attempt = item.attempts + 1
        again = attempt < self.max_attempts
        if isinstance(result, BackendError):
            self._log(item, prep, attempt, started, None, "error", result, batch=True)
            if again and (result.retryable or getattr(result, "retryable_in_batch", False)):
                return True
            self._finish_failed(item, attempt, result.error_class, str(result))
            return False
        try:
            value = self.stage.parse(item, result)
        except BadOutput as exc:
            self._log(
                item, prep, attempt, started, result, "bad_output", None, exc.reason, batch=True
            )
            if again:
                return True
            self._finish_failed(item, attempt, "bad_output", exc.reason)
            return False
        cost = self._log(item, prep, attempt, started, result, "ok", None, batch=True)
        usage = result.usage
        self._writer.submit_done(
            item, value, self._ctx(prep, result, False),
            ItemOutcome(item.key, "done", attempt, None, None, prep.request_key, False, cost,
                        usage.prompt_tokens, usage.completion_tokens),
            (prep.request_key, self.stage.name, item.key, self.backend.model,
             prep.prepared.prompt_hash, result.to_json()),
        )  # fmt: skip
        return False

    async def _cancel_open(self) -> None:
        """Cancel every batch still out; what they already finished is kept on the next run."""
        for row in await self._writer.call(bstore.open_batches, self.db, self.job_id):
            if row["batch_id"] and row["status"] not in api.TERMINAL:
                batch = await self._client.cancel(row["batch_id"])
                await self._writer.call(
                    bstore.set_batch_status, self.db, row["id"], batch["status"]
                )


def _estimate(backend, prep: _Prep) -> float:
    """The most `prep` can cost at the batch price (its reply at max_tokens)."""
    from core.backends.base import Usage

    p = prep.prepared
    return backend.cost(Usage(p.est_prompt_tokens, p.max_tokens), p.n_images, batch=True)
