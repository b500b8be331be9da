"""The job runner's single database writer: batches outcomes into few, atomic transactions."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from core.backends.keys import redact
from core.store import jobs as store
from core.store.db import Database
from core.store.jobs import ItemOutcome, RequestRow

log = logging.getLogger(__name__)


@dataclass
class _Batch:
    requests: list[RequestRow] = field(default_factory=list)
    outcomes: list[ItemOutcome] = field(default_factory=list)  # failed / skipped
    done: list[tuple] = field(default_factory=list)  # (item, value, ctx, outcome)
    cache: list[tuple] = field(default_factory=list)
    status: tuple[str, str | None] | None = None

    def __bool__(self) -> bool:
        return bool(self.requests or self.outcomes or self.done or self.cache or self.status)


class Writer:
    def __init__(self, db: Database, job_id: int, stage, on_commit):
        self.db, self.job_id, self.stage = db, job_id, stage
        self._on_commit = on_commit
        self._exec = ThreadPoolExecutor(1, thread_name_prefix="job-writer")
        self._batch = _Batch()
        self._closed = False
        self._wake = asyncio.Event()

    async def call(self, fn, *args):
        """Run `fn` on the writer thread (claims and reads that must not race the writes)."""
        return await asyncio.get_running_loop().run_in_executor(self._exec, fn, *args)

    # producers (event-loop thread) ---------------------------------------------------------
    def submit_request(self, row: RequestRow) -> None:
        self._batch.requests.append(row)

    def submit_outcome(self, outcome: ItemOutcome) -> None:
        self._batch.outcomes.append(outcome)

    def submit_done(self, item, value, ctx, outcome: ItemOutcome, cache_entry) -> None:
        self._batch.done.append((item, value, ctx, outcome))
        if cache_entry is not None:
            self._batch.cache.append(cache_entry)

    def submit_status(self, status: str, reason: str | None) -> None:
        self._batch.status = (status, reason)
        self._wake.set()

    def close_input(self) -> None:
        self._closed = True
        self._wake.set()

    # the flush loop ------------------------------------------------------------------------
    async def run(self, interval: float) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), interval)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()
            if self._closed and not self._batch:
                return

    async def flush(self) -> tuple[int, int, int]:
        """Commit what has been submitted so far: (done, failed, cached) made durable."""
        if not self._batch:
            return 0, 0, 0
        batch, self._batch = self._batch, _Batch()
        counts = await self.call(self._commit, batch)
        self._on_commit(*counts)
        return counts

    def shutdown(self) -> None:
        self._exec.shutdown(wait=True)

    # writer thread -------------------------------------------------------------------------
    def _commit(self, batch: _Batch) -> tuple[int, int, int]:
        try:
            with self.db.tx() as cur:
                self._write_all(cur, batch)
            done = len(batch.done)
            failed = sum(o.state == "failed" for o in batch.outcomes)
            skipped = len(batch.outcomes) - failed
            return done + skipped, failed, sum(o.cached for *_, o in batch.done)
        except Exception:
            log.exception("batch commit failed; retrying item by item")
            return self._commit_one_by_one(batch)

    def _write_all(self, cur, batch: _Batch) -> None:
        store.log_requests(cur, batch.requests)
        store.cache_put(cur, batch.cache)
        if batch.done:
            self.stage.store_many(self.db, [(it, v, ctx) for it, v, ctx, _ in batch.done])
        store.write_outcomes(cur, self.job_id, [o for *_, o in batch.done] + batch.outcomes)
        if batch.status:
            store.set_job_status(self.db, self.job_id, *batch.status)

    def _commit_one_by_one(self, batch: _Batch) -> tuple[int, int, int]:
        """One stage.store that raises must fail only its own item, not the whole batch."""
        with self.db.tx() as cur:
            store.log_requests(cur, batch.requests)
            store.cache_put(cur, batch.cache)
        done = failed = cached = 0
        for item, value, ctx, outcome in batch.done:
            try:
                with self.db.tx() as cur:
                    self.stage.store_many(self.db, [(item, value, ctx)])
                    store.write_outcomes(cur, self.job_id, [outcome])
                done += 1
                cached += outcome.cached
            except Exception as exc:
                log.exception("storing item %s failed", item.key)
                bad = replace(
                    outcome, state="failed", reason="store_error", error=redact(str(exc))[:500]
                )
                with self.db.tx() as cur:
                    store.write_outcomes(cur, self.job_id, [bad])
                failed += 1
        with self.db.tx() as cur:
            store.write_outcomes(cur, self.job_id, batch.outcomes)
            if batch.status:
                store.set_job_status(self.db, self.job_id, *batch.status)
        failed += sum(o.state == "failed" for o in batch.outcomes)
        done += sum(o.state != "failed" for o in batch.outcomes)
        return done, failed, cached
