"""Adaptive limits against the loopback server with a request limit the runner is not told."""

from __future__ import annotations

import pytest

from core.backends import BackendConfig, ChatRequest, make_backend
from core.backends.ratelimit import RateInfo, parse_duration, parse_rate_headers
from core.devtools.loopback import LoopbackServer
from core.jobs import Limits, Stage, create_job
from core.jobs.engine import make_runner
from core.store import jobs as store


class Echo(Stage):
    name = "echo"
    cache = False

    def build(self, item):
        return ChatRequest.user(f"item {item.key}", max_tokens=8)


def test_rate_limit_headers_are_read_in_openais_formats():
    assert parse_duration("20ms") == pytest.approx(0.02)
    assert parse_duration("1.5s") == 1.5 and parse_duration("6m0s") == 360
    assert parse_duration("1h2m3s") == 3723 and parse_duration("7") == 7
    assert parse_duration("soon") is None and parse_duration(None) is None
    info = parse_rate_headers({"x-ratelimit-limit-requests": "500",
                               "x-ratelimit-remaining-requests": "499",
                               "x-ratelimit-reset-requests": "120ms",
                               "x-ratelimit-limit-tokens": "30000"})  # fmt: skip
    assert info == RateInfo(500, 499, 0.12, 30000, None, None)
    assert parse_rate_headers({"content-type": "application/json"}) is None


def _run(server, n, events):
    backend = make_backend(BackendConfig(name="lb", kind="openai", model="gpt-4o-mini",
                                         base_url=server.url))  # fmt: skip
    limits = Limits.from_backend(backend, flush_interval_s=0.01, event_interval_s=0.0)
    assert limits.max_concurrency == 64 and limits.rpm is None  # the runner is not told
    tuned = make_backend(BackendConfig(name="t", kind="openai", model="m", max_concurrency=3))
    assert Limits.from_backend(tuned).max_concurrency is None  # the user's choice is the cap
    assert Limits.from_backend(backend, concurrency=2).max_concurrency is None

    def run(project):
        job_id = create_job(project.db, "echo", [str(i) for i in range(n)])
        runner = make_runner(project.db, job_id, Echo(), backend, limits, events.append)
        return job_id, runner, runner.run()

    return run


def test_the_declared_limit_paces_the_run_and_a_local_kind_keeps_its_setting(project):
    events = []
    with LoopbackServer(latency=0.005, slots=64, rpm=1200) as server:
        job_id, runner, final = _run(server, 60, events)(project)
    assert final.status == "done" and final.done == 60 and final.failed == 0
    assert runner._limiter.header_limited
    assert runner._limiter.rate_per_s == pytest.approx(1200 / 60)  # learnt from the headers
    assert events[-1].limit_per_s == pytest.approx(20.0) and events[-1].window >= 1
    # every call is logged; a 429 (if the first burst met one) was retried, never lost
    assert len(store.job_outputs(project.db, job_id)) == 60

    from core.backends.llama_cpp_kind import LlamaCppBackend

    assert not LlamaCppBackend.provider_limits and not LlamaCppBackend.batch_api


def test_without_headers_429s_teach_the_rate(project):
    # A limit of 2 requests/s (a bucket of 4) is below what the first window of 8 sends at once
    # on any machine, however loaded: at 20/s a busy machine never reached it and saw no 429.
    events = []
    with LoopbackServer(latency=0.005, slots=64, rpm=120, rate_headers=False) as server:
        job_id, runner, final = _run(server, 24, events)(project)
        refused = server.stats.faults["rate_limit"]
    assert final.status == "done" and final.done == 24 and final.failed == 0
    assert refused >= 1 and runner._limiter.throttled == refused
    assert not runner._limiter.header_limited
    learnt = runner._limiter.rate_per_s
    assert learnt is not None and learnt < 64 / 0.005  # paced, far below the unpaced rate
    assert events[-1].throttled == refused
    rows = store.requests_log(project.db, job_id)
    assert sum(r["error_class"] == "rate_limited" for r in rows) == refused
