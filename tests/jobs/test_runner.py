"""The job runner against the real loopback HTTP server and a real project DuckDB file."""

from __future__ import annotations

import queue
import time

import pytest

from core.backends import BackendConfig, ChatRequest, make_backend
from core.jobs import BadOutput, Limits, RetryPolicy, Stage, create_job, run_job, start_job
from core.jobs.runner import JobRunner
from core.store import jobs as store

FAST_RETRY = RetryPolicy(base_s=0.01, cap_s=0.05)


class Echo(Stage):
    name = "echo"

    def build(self, item):
        return ChatRequest.user(f"item {item.key}", max_tokens=32)


def _run(project, backend, keys, stage=None, limits=None, **job_kw):
    job_id = create_job(
        project.db, "echo", keys, backend=backend.name, model=backend.model, **job_kw
    )
    runner = JobRunner(
        project.db,
        job_id,
        stage or Echo(),
        backend,
        limits or Limits(concurrency=8),
        retry=FAST_RETRY,
    )
    return job_id, runner.run()


def test_every_item_done_once_with_a_request_log(project, loopback, lb_backend):
    keys = [str(i) for i in range(150)]
    job_id, final = _run(project, lb_backend, keys)
    assert final.status == "done" and final.done == 150 and final.failed == 0
    outputs = dict(store.job_outputs(project.db, job_id))
    assert outputs == {k: f"loopback reply to: item {k}" for k in keys}
    assert all(loopback.stats.by_text[f"item {k}"] == 1 for k in keys)
    log = store.requests_log(project.db, job_id)
    assert len(log) == 150 and {r["outcome"] for r in log} == {"ok"}
    usage = store.job_usage(project.db, job_id)
    # what the server counted is what we recorded, and the cost follows the price table
    assert usage["prompt_tokens"] == loopback.stats.prompt_tokens
    assert usage["completion_tokens"] == loopback.stats.completion_tokens
    expected = (usage["prompt_tokens"] * 0.15 + usage["completion_tokens"] * 0.60) / 1e6
    assert usage["cost_usd"] == pytest.approx(expected) and final.cost_usd == pytest.approx(
        expected
    )
    assert loopback.stats.max_in_flight <= 8


@pytest.mark.parametrize("fault", ["429", "500", "truncated", "empty", "disconnect"])
def test_transient_faults_are_retried_and_logged(project, loopback, lb_backend, fault):
    loopback.add_fault(fault, times=3, match="item 7", retry_after=0.05)
    job_id, final = _run(project, lb_backend, [str(i) for i in range(20)])
    assert final.status == "done" and final.done == 20
    log = [r for r in store.requests_log(project.db, job_id) if r["item_key"] == "7"]
    assert [r["outcome"] for r in log] == ["error"] * 3 + ["ok"]
    assert [r["attempt"] for r in log] == [1, 2, 3, 4]
    expected_class = {
        "429": "rate_limited", "500": "server_error", "truncated": "bad_response",
        "empty": "empty", "disconnect": "connection",
    }[fault]  # fmt: skip
    assert {r["error_class"] for r in log[:3]} == {expected_class}


def test_retry_after_is_honoured(project, loopback, lb_backend):
    loopback.add_fault("429", times=1, match="item 0", retry_after=0.4)
    job_id, _ = _run(project, lb_backend, ["0"])
    rows = project.db.fetchall(
        "SELECT started_at FROM requests WHERE job_id = ? ORDER BY id", [job_id]
    )
    gap = (rows[1][0] - rows[0][0]).total_seconds()
    assert gap >= 0.4  # a lower bound only: the wait may be longer, never shorter


def test_hang_past_the_timeout_is_retried(project, loopback, lb_backend):
    loopback.hang_s = 5
    loopback.add_fault("hang", times=1, match="item 1")
    job_id, final = _run(
        project, lb_backend, ["0", "1"], limits=Limits(concurrency=2, timeout_s=0.5)
    )
    assert final.done == 2
    classes = [
        r["error_class"] for r in store.requests_log(project.db, job_id) if r["item_key"] == "1"
    ]
    assert classes == ["timeout", None]


def test_permanent_failure_after_max_attempts_and_rejections_fail_at_once(
    project, loopback, lb_backend
):
    loopback.add_fault("500", times=-1, match="item 3")
    loopback.add_fault("400", times=-1, match="item 4")
    job_id, final = _run(project, lb_backend, [str(i) for i in range(6)], max_attempts=3)
    assert final.status == "done" and final.done == 4 and final.failed == 2
    failed = {f["key"]: f for f in store.failed_items(project.db, job_id)}
    assert failed["3"]["reason"] == "server_error" and failed["3"]["attempts"] == 3
    assert failed["4"]["reason"] == "rejected" and failed["4"]["attempts"] == 1
    assert loopback.stats.seen_text["item 3"] == 3 and loopback.stats.seen_text["item 4"] == 1
    # failed items can be retried later; done ones are not asked again
    assert store.retry_failed(project.db, job_id) == 2
    loopback.faults.clear()
    final = JobRunner(project.db, job_id, Echo(), lb_backend, retry=FAST_RETRY).run()
    assert final.done == 6 and final.failed == 0
    assert loopback.stats.seen_text["item 0"] == 1


def test_a_rerun_is_served_from_the_cache_and_costs_nothing(project, loopback, lb_backend):
    keys = [str(i) for i in range(30)]
    _run(project, lb_backend, keys)
    asked = loopback.stats.requests
    job2, final = _run(project, lb_backend, keys)
    assert loopback.stats.requests == asked
    assert final.done == 30 and final.cached == 30
    assert store.job_usage(project.db, job2)["cost_usd"] == 0

    # a different prompt is a different key: it is asked again
    class Other(Echo):
        def build(self, item):
            return ChatRequest.user(f"item {item.key} again", max_tokens=32)

    _run(project, lb_backend, keys[:5], stage=Other())
    assert loopback.stats.requests == asked + 5


def test_bad_output_is_retried(project, loopback, lb_backend):
    class Picky(Echo):
        seen: dict = {}

        def parse(self, item, response):
            n = self.seen[item.key] = self.seen.get(item.key, 0) + 1
            if n == 1:
                raise BadOutput("not what I asked for")
            return response.text.upper()

    job_id, final = _run(project, lb_backend, ["a", "b"], stage=Picky())
    assert final.done == 2
    outcomes = [r["outcome"] for r in store.requests_log(project.db, job_id)]
    assert sorted(outcomes) == ["bad_output", "bad_output", "ok", "ok"]
    assert dict(store.job_outputs(project.db, job_id))["a"] == "LOOPBACK REPLY TO: ITEM A"


def test_a_failing_store_fails_only_its_item(project, loopback, lb_backend):
    class Fragile(Echo):
        def store(self, db, item, value, ctx):
            if item.key == "5":
                raise RuntimeError("disk full (simulated)")
            super().store(db, item, value, ctx)

    job_id, final = _run(project, lb_backend, [str(i) for i in range(10)], stage=Fragile())
    assert final.done == 9 and final.failed == 1
    assert store.failed_items(project.db, job_id)[0]["reason"] == "store_error"
    assert len(store.job_outputs(project.db, job_id)) == 9


def test_budget_stops_the_job_cleanly_and_it_resumes(project, loopback, lb_backend):
    # a call here may cost up to ~2e-5 (32 tokens out); 4 in flight reserve ~8e-5 of 1e-4
    job_id = create_job(project.db, "echo", [str(i) for i in range(40)], budget_usd=0.0001)
    final = JobRunner(project.db, job_id, Echo(), lb_backend, Limits(concurrency=4)).run()
    assert (
        final.status == "budget" and "budget" in store.get_job(project.db, job_id)["status_reason"]
    )
    usage = store.job_usage(project.db, job_id)
    assert usage["cost_usd"] <= 0.0001
    counts = store.item_counts(project.db, job_id)
    assert counts["running"] == 0 and counts["pending"] > 0 and counts["done"] == final.done > 0
    store.set_budget(project.db, job_id, None)
    final = JobRunner(project.db, job_id, Echo(), lb_backend).run()
    assert final.status == "done" and final.done == 40
    assert sum(loopback.stats.by_text.values()) == 40


def test_auth_failure_stops_the_job_and_never_shows_the_key(project, loopback, monkeypatch):
    loopback.api_key = "sk-right-key-000000"
    monkeypatch.setenv("LB_KEY", "sk-wrong-key-1234567890")
    backend = make_backend(
        BackendConfig(
            name="lbauth", kind="openai", model="m", base_url=loopback.url, api_key_env="LB_KEY"
        )
    )
    job_id, final = _run(project, backend, [str(i) for i in range(10)])
    assert final.status == "failed"
    job = store.get_job(project.db, job_id)
    assert "refused the key" in job["status_reason"]
    assert "sk-wrong-key-1234567890" not in job["status_reason"]
    counts = store.item_counts(project.db, job_id)
    assert counts["failed"] == 0 and counts["running"] == 0  # not the items' fault
    for row in store.requests_log(project.db, job_id):
        assert "sk-wrong" not in (row["error"] or "")


def test_pause_resume_and_events_from_another_thread(project, loopback, lb_backend):
    loopback.latency = 0.02
    events: queue.Queue = queue.Queue()
    job_id = create_job(project.db, "echo", [str(i) for i in range(200)])
    handle = start_job(project.db, job_id, Echo(), lb_backend, Limits(concurrency=4), events.put)
    while True:
        ev = events.get(timeout=10)
        if ev.done >= 20:
            break
    handle.pause()
    time.sleep(0.3)  # let in-flight calls land
    frozen = loopback.stats.requests
    time.sleep(0.3)
    assert loopback.stats.requests == frozen  # nothing new goes out while paused
    assert store.get_job(project.db, job_id)["status"] == "paused"
    handle.resume()
    final = handle.wait(30)
    assert final.status == "done" and final.done == 200
    seen = []
    while not events.empty():
        seen.append(events.get())
    assert [e.done for e in seen] == sorted(e.done for e in seen)  # progress only grows
    assert seen[-1].kind == "status" and seen[-1].eta_s == 0
    assert any(e.in_flight > 0 for e in seen)


def test_cancel_returns_in_flight_items_to_pending(project, loopback, lb_backend):
    loopback.latency = 0.5
    job_id = create_job(project.db, "echo", [str(i) for i in range(50)])
    handle = start_job(project.db, job_id, Echo(), lb_backend, Limits(concurrency=8))
    deadline = time.monotonic() + 10
    while loopback.stats.in_flight < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert loopback.stats.in_flight == 8
    handle.cancel()
    final = handle.wait(10)
    assert final.status == "cancelled"
    counts = store.item_counts(project.db, job_id)
    assert counts["running"] == 0 and counts["pending"] == 50 - counts["done"]
    loopback.latency = 0.0
    final = run_job(project.db, job_id, Echo(), lb_backend)
    assert final.status == "done" and final.done == 50


def test_rpm_limit_spaces_requests(project, loopback, lb_backend):
    job_id, _ = _run(
        project, lb_backend, [str(i) for i in range(6)], limits=Limits(concurrency=8, rpm=60)
    )
    starts = [r[0] for r in project.db.fetchall(
        "SELECT started_at FROM requests WHERE job_id = ? ORDER BY started_at", [job_id]
    )]  # fmt: skip
    # 60/min allows a burst of 5 (5 s worth); the sixth call waits about a second for a token
    assert (starts[5] - starts[0]).total_seconds() >= 0.9


def test_skipped_items_and_bad_images_are_recorded(project, loopback, lb_backend, tmp_path):
    from core.backends import ImagePart

    class Mixed(Echo):
        def build(self, item):
            if item.key == "skip":
                return None
            if item.key == "bad":
                return ChatRequest.user("look", [ImagePart(data=b"not an image")])
            return super().build(item)

    job_id, final = _run(project, lb_backend, ["ok", "skip", "bad"], stage=Mixed())
    assert final.done == 2 and final.failed == 1
    assert store.failed_items(project.db, job_id)[0]["reason"] == "rejected"
    assert loopback.stats.requests == 1


def test_recover_after_a_crash_puts_running_items_back(project):
    job_id = create_job(project.db, "echo", ["a", "b", "c"])
    store.set_job_status(project.db, job_id, "running")
    store.claim_items(project.db, job_id, 2)
    assert store.item_counts(project.db, job_id)["running"] == 2
    from core.jobs import recover_on_open

    assert recover_on_open(project.db) == [job_id]
    assert store.item_counts(project.db, job_id)["pending"] == 3
    assert store.get_job(project.db, job_id)["status"] == "stopped"


def test_bad_job_input_is_a_clear_error(project, lb_backend):
    from core.store.jobs import JobError

    with pytest.raises(JobError, match="repeated: a"):
        create_job(project.db, "echo", ["a", "b", "a"])
    assert store.list_jobs(project.db) == []  # nothing half-written
    with pytest.raises(JobError, match="no job 99"):
        JobRunner(project.db, 99, Echo(), lb_backend)


def test_a_job_whose_items_all_failed_ends_failed(project, loopback, lb_backend):
    loopback.add_fault("400", times=-1)
    job_id, final = _run(project, lb_backend, [str(i) for i in range(5)], max_attempts=2)
    assert (final.status, final.done, final.failed) == ("failed", 0, 5)
    job = store.get_job(project.db, job_id)
    assert job["status"] == "failed" and "all 5 items failed" in job["status_reason"]
    assert "rejected" in job["status_reason"]  # the reason of the failures, not only a count


def test_a_dead_server_pauses_the_job_instead_of_retrying_every_item(project, loopback):
    port = loopback.port
    loopback.stop()
    backend = make_backend(
        BackendConfig(
            name="gone", kind="openai", model="gpt-4o-mini",
            base_url=f"http://127.0.0.1:{port}/v1", max_concurrency=2,
        )
    )  # fmt: skip
    keys = [str(i) for i in range(500)]
    job_id = create_job(project.db, "echo", keys, backend="gone", model="gpt-4o-mini")
    events: queue.Queue = queue.Queue()
    limits = Limits(concurrency=2, adaptive=False, max_connection_failures=4)
    handle = start_job(project.db, job_id, Echo(), backend, limits, events.put)
    handle.runner.retry = FAST_RETRY
    deadline = time.monotonic() + 30
    while store.get_job(project.db, job_id)["status"] != "paused":
        assert time.monotonic() < deadline, "the job did not pause itself"
        time.sleep(0.05)
    job = store.get_job(project.db, job_id)
    assert "cannot reach" in job["status_reason"] and "4" in job["status_reason"]
    asked = store.requests_log(project.db, job_id)
    assert len(asked) < 12  # a few attempts, not 500 items x max_attempts
    handle.stop()
    final = handle.wait(30)
    assert final.status == "stopped" and final.done == 0
    assert store.item_counts(project.db, job_id)["pending"] >= 490  # resumable, not failed


def test_a_blocking_run_stops_on_a_dead_server(project, loopback):
    port = loopback.port
    loopback.stop()
    backend = make_backend(
        BackendConfig(
            name="gone", kind="openai", model="gpt-4o-mini",
            base_url=f"http://127.0.0.1:{port}/v1",
        )
    )  # fmt: skip
    job_id = create_job(project.db, "echo", [str(i) for i in range(50)], backend="gone")
    runner = JobRunner(
        project.db, job_id, Echo(), backend, Limits(concurrency=2, max_connection_failures=3),
        retry=FAST_RETRY,
    )  # fmt: skip
    final = runner.run()  # nobody could press Resume: it stops, resumable later
    assert final.status == "stopped" and "cannot reach" in final.message
    assert store.item_counts(project.db, job_id)["pending"] >= 45


def test_a_redo_answered_from_the_cache_says_so_and_a_resample_asks_again(
    project, loopback, lb_backend
):
    keys = [str(i) for i in range(6)]
    _run(project, lb_backend, keys)
    asked = loopback.stats.requests
    _, final = _run(project, lb_backend, keys)  # the redo: the same requests
    assert loopback.stats.requests == asked and final.cached == 6
    assert "6 answered from the reply cache, nothing sent" in final.message
    assert "re-sample" in final.message
    first = Echo()
    first.resample = 1
    _, final = _run(project, lb_backend, keys, stage=first)
    assert loopback.stats.requests == asked + 6  # really asked: a new key per request
    assert final.cached == 0 and final.message is None
    again = Echo()
    again.resample = 1  # the same re-sample twice is the cache's again; the next one is new
    _run(project, lb_backend, keys, stage=again)
    assert loopback.stats.requests == asked + 6
    second = Echo()
    second.resample = 2
    _run(project, lb_backend, keys, stage=second)
    assert loopback.stats.requests == asked + 12
