"""Jobs through the OpenAI Batch API, against the loopback server's Files + Batches endpoints."""

from __future__ import annotations

import random
import threading

import pytest

from core.backends import BackendConfig, ChatRequest, make_backend
from core.backends import batch as api
from core.jobs import Limits, Stage, create_job, run_job, start_job
from core.jobs.engine import BatchUnsupported, make_runner
from core.store import batches as bstore
from core.store import jobs as store

PRICE_IN, PRICE_OUT = 0.15, 0.60  # gpt-4o-mini in the bundled price table, USD per 1M


class Echo(Stage):
    name = "echo"

    def build(self, item):
        return ChatRequest.user(f"item {item.key}", max_tokens=16)


def _limits(**kw):
    return Limits(flush_interval_s=0.01, event_interval_s=0.0, batch=True, batch_poll_s=0.02, **kw)


def _half_price(usage):
    full = (usage["prompt_tokens"] * PRICE_IN + usage["completion_tokens"] * PRICE_OUT) / 1e6
    return full / 2


def _asked_once(loopback, n):
    asked = loopback.stats.seen_text
    assert set(asked) == {f"item {i}" for i in range(n)} and set(asked.values()) == {1}


def test_a_batch_job_stores_results_at_half_price_and_retries_a_failed_request(
    project, loopback, lb_backend
):
    loopback.add_fault("500", times=1, match="item 3")
    job_id = create_job(project.db, "echo", [str(i) for i in range(12)])
    final = run_job(project.db, job_id, Echo(), lb_backend, _limits())
    assert final.status == "done" and final.done == 12 and final.failed == 0
    assert len(loopback.batches.batches) == 2  # the 500 went into a second, one-request batch
    assert dict(store.job_outputs(project.db, job_id))["0"] == "loopback reply to: item 0"
    log = store.requests_log(project.db, job_id)
    assert all(r["batch"] for r in log) and len(log) == 13
    usage = store.job_usage(project.db, job_id)
    assert usage["cost_usd"] == pytest.approx(_half_price(usage)) and usage["cost_usd"] > 0
    assert usage["batch_cost_usd"] == pytest.approx(usage["cost_usd"])
    assert [b["status"] for b in bstore.job_batches(project.db, job_id)] == ["completed"] * 2
    assert bstore.open_batches(project.db, job_id) == []


def test_input_files_are_split_at_the_request_and_byte_limits(project, loopback, lb_backend):
    job_id = create_job(project.db, "echo", [str(i) for i in range(12)])
    runner = make_runner(project.db, job_id, Echo(), lb_backend, _limits())
    runner.max_requests = 5
    assert runner.run().done == 12
    sizes = [b["n_requests"] for b in bstore.job_batches(project.db, job_id)]
    assert sizes == [5, 5, 2]
    for f in (e for e in loopback.batches.files.values() if e["meta"]["purpose"] == "batch"):
        assert len(f["data"].splitlines()) <= 5

    lines = [(str(i), b"x" * 40 + b"\n") for i in range(10)]
    chunks = list(api.split(lines, max_requests=100, max_bytes=100))
    assert [len(c) for c in chunks] == [2, 2, 2, 2, 2]
    assert all(sum(len(line) for _, line in c) <= 100 for c in chunks)
    with pytest.raises(api.BatchTooLarge, match="over the Batch API"):
        list(api.split([("big", b"y" * 101)], max_bytes=100))


def test_images_count_towards_the_file_size(project, loopback, lb_backend, tmp_path):
    from PIL import Image

    path = tmp_path / "noise.png"
    Image.frombytes("RGB", (128, 128), random.Random(0).randbytes(128 * 128 * 3)).save(path)

    class WithImage(Echo):
        def build(self, item):
            return ChatRequest.user(f"item {item.key}", [path], max_tokens=16)

    job_id = create_job(project.db, "echo", [str(i) for i in range(6)])
    one = len(api.jsonl_line("m", "0", lb_backend.prepare(WithImage().build(
        store.JobItem(job_id, "0", 0, None)))))  # fmt: skip
    assert one > 10_000  # the data URI travels inside the line
    runner = make_runner(project.db, job_id, WithImage(), lb_backend, _limits())
    runner.max_bytes = 2 * one + 100
    assert runner.run().done == 6
    assert [b["n_requests"] for b in bstore.job_batches(project.db, job_id)] == [2, 2, 2]
    assert all(b["n_bytes"] <= runner.max_bytes for b in bstore.job_batches(project.db, job_id))
    assert len(loopback.stats.images) == 6


def test_a_stopped_job_polls_the_same_batch_on_resume_instead_of_paying_again(
    project, loopback, lb_backend
):
    loopback.batches.delay_s = 0.5
    job_id = create_job(project.db, "echo", [str(i) for i in range(8)])
    first = run_job(project.db, job_id, Echo(), lb_backend, _limits(batch_wait_s=0.05))
    assert first.status == "stopped" and "still running" in first.message
    counts = store.item_counts(project.db, job_id)
    assert counts["in_batch"] == 8 and counts["running"] == 0
    assert bstore.jobs_with_open_batches(project.db) == [job_id]
    # resumed without saying --batch: the job remembers it runs as batches
    final = run_job(project.db, job_id, Echo(), lb_backend, Limits(batch_poll_s=0.02))
    assert final.status == "done" and final.done == 8
    assert len(loopback.batches.batches) == 1
    _asked_once(loopback, 8)


@pytest.mark.parametrize("on_expiry", ["batch", "live"])
def test_an_expired_batch_keeps_and_charges_what_it_finished_and_requeues_the_rest(
    project, loopback, lb_backend, on_expiry
):
    loopback.batches.expire_after = 4
    job_id = create_job(project.db, "echo", [str(i) for i in range(10)])
    runner = make_runner(project.db, job_id, Echo(), lb_backend, _limits(batch_on_expiry=on_expiry))
    loopback.batches.expire_after = 4
    # the second batch (leftovers) must complete: expire only the first one
    orig = loopback.batches._process

    async def once(batch):
        await orig(batch)
        loopback.batches.expire_after = None

    loopback.batches._process = once
    final = runner.run()
    assert final.status == "done" and final.done == 10
    _asked_once(loopback, 10)
    rows = bstore.job_batches(project.db, job_id)
    assert rows[0]["status"] == "expired" and rows[0]["settled"]
    log = store.requests_log(project.db, job_id)
    assert len(log) == 10 and {r["outcome"] for r in log} == {"ok"}
    batched = [r for r in log if r["batch"]]
    if on_expiry == "batch":
        assert len(rows) == 2 and len(batched) == 10
    else:
        assert len(rows) == 1 and len(batched) == 4  # the 6 leftovers went live, full price
    full = sum(r["cost_usd"] for r in log if not r["batch"])
    half = sum(r["cost_usd"] for r in batched)
    assert store.job_usage(project.db, job_id)["cost_usd"] == pytest.approx(full + half)


def test_a_batch_the_provider_refuses_fails_its_items_with_its_message(
    project, loopback, lb_backend
):
    loopback.batches.fail_validation = "line 1: unknown model"
    job_id = create_job(project.db, "echo", ["a", "b"])
    final = run_job(project.db, job_id, Echo(), lb_backend, _limits())
    assert final.status == "failed" and final.failed == 2  # every item failed: the job did
    assert "unknown model" in final.message
    failed = store.failed_items(project.db, job_id)
    assert {f["reason"] for f in failed} == {"batch_failed"}
    assert "unknown model" in failed[0]["error"]
    assert store.retry_failed(project.db, job_id) == 2  # retryable like any failure
    final = run_job(project.db, job_id, Echo(), lb_backend, _limits())
    assert final.done == 2 and final.failed == 0


def test_cancel_cancels_the_batches_and_a_resume_keeps_what_they_finished(
    project, loopback, lb_backend
):
    loopback.batches.delay_s = 0.3
    job_id = create_job(project.db, "echo", [str(i) for i in range(6)])
    submitted = threading.Event()
    handle = start_job(project.db, job_id, Echo(), lb_backend, _limits(),
                       lambda e: submitted.set() if "submitted" in (e.message or "") else None)  # fmt: skip
    assert submitted.wait(10)
    handle.cancel()
    final = handle.wait(10)
    assert final.status == "cancelled"
    (batch,) = loopback.batches.batches.values()
    assert batch["status"] in ("cancelling", "cancelled")
    final = run_job(project.db, job_id, Echo(), lb_backend, _limits())
    assert final.status == "done" and final.done == 6
    _asked_once(loopback, 6)  # the cancelled batch's finished answers were kept, not re-asked


def test_a_batch_created_just_before_a_crash_is_adopted_by_its_token(project, loopback, lb_backend):
    import asyncio

    job_id = create_job(project.db, "echo", ["a", "b", "c"])
    bstore.set_batch_mode(project.db, job_id, True, "batch")
    items = store.claim_items(project.db, job_id, 2)
    lines = [(it.key, api.jsonl_line(lb_backend.model, it.key, lb_backend.prepare(
        Echo().build(it)))) for it in items]  # fmt: skip
    data = b"".join(line for _, line in lines)

    async def upload_and_create():
        client = api.BatchClient(lb_backend)
        file_id = await client.upload(data)
        bstore.add_batch(project.db, job_id, "tok1", file_id, len(data), ["a", "b"])
        await client.create(file_id, {"token": "tok1"})  # ... and the process dies here
        await lb_backend.aclose()

    asyncio.run(upload_and_create())
    # a second recorded batch that was never created: its item goes back to the queue
    bstore.add_batch(project.db, job_id, "tok2", "file-x", 10, ["c"])
    final = run_job(project.db, job_id, Echo(), lb_backend, _limits())
    assert final.status == "done" and final.done == 3
    assert len(loopback.batches.batches) == 2  # the adopted one and one for "c"
    assert set(loopback.stats.seen_text.values()) == {1}
    assert [b["token"] for b in bstore.job_batches(project.db, job_id)][0] == "tok1"


def test_the_backend_setting_routes_a_run_and_a_run_flag_overrides_it(project, loopback):
    cfg = BackendConfig(name="lb", kind="openai", model="gpt-4o-mini", base_url=loopback.url,
                        use_batch_api=True)  # fmt: skip
    with make_backend(cfg) as backend:
        a = create_job(project.db, "echo", ["1", "2"])
        run_job(project.db, a, Echo(), backend, Limits(batch_poll_s=0.02))
        assert len(loopback.batches.batches) == 1
        b = create_job(project.db, "echo", ["3", "4"])
        run_job(project.db, b, Echo(), backend, Limits(batch=False))
        assert len(loopback.batches.batches) == 1 and loopback.stats.seen_text["item 3"] == 1
        assert bstore.batch_mode(project.db, a) == (True, "batch")
        assert bstore.batch_mode(project.db, b)[0] is False
        assert all(not r["batch"] for r in store.requests_log(project.db, b))


def test_a_backend_without_a_batch_api_is_a_clear_error(project):
    from core.backends.base import Backend

    class LocalOnly(Backend):  # a kind that serves live calls only (like llama_cpp)
        kind = "local_only"

        def prepare(self, request):
            raise AssertionError("never called")

        async def send(self, prepared, timeout=None):
            raise AssertionError("never called")

    job_id = create_job(project.db, "echo", ["1"])
    backend = LocalOnly(BackendConfig(name="local", kind="llama_cpp", model="m"))
    with pytest.raises(BatchUnsupported, match="has no Batch API"):
        make_runner(project.db, job_id, Echo(), backend, Limits(batch=True))
    assert bstore.batch_mode(project.db, job_id) == (None, None)  # nothing recorded


def test_a_resumed_run_holds_the_requests_still_out_against_its_budget(
    project, loopback, lb_backend
):
    from core.jobs.batch_runner import _estimate
    from core.jobs.runner import _Prep

    class Padded(Echo):  # a prompt and a reply close to what the estimate assumes
        def build(self, item):
            return ChatRequest.user(f"item {item.key} " + "x" * 400, max_tokens=16)

    loopback.reply = lambda body, images: "y" * 64  # 16 completion tokens: max_tokens
    loopback.batches.delay_s = 0.3
    job_id = create_job(project.db, "echo", [str(i) for i in range(20)])
    item = store.JobItem(job_id, "0", 0, None)
    one = _estimate(lb_backend, _Prep(lb_backend.prepare(Padded().build(item)), "", None))
    budget = 8.5 * one
    store.set_budget(project.db, job_id, budget)

    first = run_job(project.db, job_id, Padded(), lb_backend, _limits(batch_wait_s=0.05))
    assert first.status == "stopped"  # 8 requests fit and went out; polling gave up
    (out,) = bstore.open_batches(project.db, job_id)
    assert out["n_requests"] == 8 and out["reserved_usd"] == pytest.approx(8 * one)
    assert bstore.reserved_usd(project.db, job_id) == pytest.approx(8 * one)

    # Resumed: the 8 still out hold 8 of the 8.5 allowed, so nothing more is sent before they
    # settle; what they really cost (95 % of the estimate) leaves no room for a ninth.
    final = run_job(project.db, job_id, Padded(), lb_backend, _limits())
    assert final.status == "budget" and final.done == 8
    assert "budget reached" in final.message
    assert len(loopback.batches.batches) == 1 and loopback.stats.requests == 8
    spent = store.job_usage(project.db, job_id)["cost_usd"]
    assert 0.9 * 8 * one < spent <= budget
    assert bstore.reserved_usd(project.db, job_id) == 0.0  # settled: nothing held any more
    # a larger budget on a later resume sends the rest
    store.set_budget(project.db, job_id, None)
    assert run_job(project.db, job_id, Padded(), lb_backend, _limits()).done == 20
    assert loopback.stats.requests == 20 and set(loopback.stats.seen_text.values()) == {1}


def test_the_live_leftovers_of_an_expired_batch_pause_when_the_server_goes_down(
    project, loopback, lb_backend
):
    from core.jobs import RetryPolicy

    loopback.batches.expire_after = 3
    job_id = create_job(project.db, "echo", [str(i) for i in range(8)])

    def on_event(event):  # the batch expired; its 5 leftovers go live, into a dead link
        if "left unanswered as live calls" in (event.message or ""):
            loopback.add_fault("disconnect", times=-1)

    limits = _limits(batch_on_expiry="live", max_connection_failures=3, adaptive=False,
                     concurrency=1)  # fmt: skip
    handle = start_job(project.db, job_id, Echo(), lb_backend, limits, on_event)
    handle.runner.retry = RetryPolicy(base_s=0.01, cap_s=0.05)
    deadline = threading.Event()
    for _ in range(600):
        if store.get_job(project.db, job_id)["status"] == "paused":
            break
        deadline.wait(0.05)
    job = store.get_job(project.db, job_id)
    assert job["status"] == "paused" and "connection failures in a row" in job["status_reason"]
    loopback.faults.clear()
    handle.resume()
    final = handle.wait(30)
    assert final.status == "done" and final.done == 8 and final.failed == 0
    log = store.requests_log(project.db, job_id)
    assert sum(r["batch"] and r["outcome"] == "ok" for r in log) == 3
    assert sum(not r["batch"] and r["outcome"] == "ok" for r in log) == 5
