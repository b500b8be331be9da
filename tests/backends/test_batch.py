"""Jobs through the OpenAI Batch API, against the loopback server's Files + Batches endpoints."""

from __future__ import annotations

import pytest

from core.backends import ChatRequest
from core.jobs import Stage, create_job
from core.jobs.batch_runner import BatchJobRunner
from core.store import jobs as store


class Echo(Stage):
    name = "echo"

    def build(self, item):
        return ChatRequest.user(f"item {item.key}", max_tokens=16)


def _runner(project, job_id, backend, **kw):
    runner = BatchJobRunner(project.db, job_id, Echo(), backend)
    runner.poll_s = 0.05
    for k, v in kw.items():
        setattr(runner, k, v)
    return runner


def test_a_batch_job_stores_results_at_half_price(project, loopback, lb_backend):
    loopback.add_fault("500", times=1, match="item 3")
    job_id = create_job(project.db, "echo", [str(i) for i in range(12)])
    final = _runner(project, job_id, lb_backend).run()
    assert final.status == "done" and final.done == 11 and final.failed == 1
    assert store.failed_items(project.db, job_id)[0]["reason"] == "batch_failed"
    assert len(loopback.batches.batches) == 1
    outputs = dict(store.job_outputs(project.db, job_id))
    assert outputs["0"] == "loopback reply to: item 0" and "3" not in outputs
    usage = store.job_usage(project.db, job_id)
    full = (usage["prompt_tokens"] * 0.15 + usage["completion_tokens"] * 0.60) / 1e6
    assert usage["cost_usd"] == pytest.approx(full / 2)
    assert store.get_job(project.db, job_id)["batch_id"] is None


def test_a_resumed_batch_job_polls_the_same_batch_instead_of_paying_again(
    project, loopback, lb_backend
):
    loopback.batches.delay_s = 0.6
    job_id = create_job(project.db, "echo", [str(i) for i in range(8)])
    first = _runner(project, job_id, lb_backend, wait_timeout_s=0.1).run()
    assert first.status == "stopped" and "still" in first.message
    batch_id = store.get_job(project.db, job_id)["batch_id"]
    assert batch_id and store.item_counts(project.db, job_id)["running"] == 0
    final = _runner(project, job_id, lb_backend).run()
    assert final.status == "done" and final.done == 8
    assert list(loopback.batches.batches) == [batch_id]  # one batch, never a second
    assert all(n == 1 for n in loopback.stats.seen_text.values())


def test_cached_items_never_go_into_a_batch(project, loopback, lb_backend):
    job_id = create_job(project.db, "echo", ["a", "b"])
    _runner(project, job_id, lb_backend).run()
    job2 = create_job(project.db, "echo", ["a", "b", "c"])
    final = _runner(project, job2, lb_backend).run()
    assert final.done == 3 and final.cached == 2
    assert loopback.stats.seen_text["item a"] == 1 and loopback.stats.seen_text["item c"] == 1
