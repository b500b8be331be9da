"""The adaptive limiter against a rate limit it is not told (part of bench/generation.py).

The loopback server (its own process) refuses requests past `--rpm` with a 429, with or
without OpenAI's x-ratelimit-* headers. The job runner starts with the backend's default
settings (no rpm, 8 in flight, growing to 64) and runs for `seconds`; from its request log we
take, after the warm-up (the first minute, or the first third of a shorter run), the answers
per second against the limit and the share of calls that met a 429.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _spawn(latency: float, rpm: float, headers: bool) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "core.devtools.loopback", "--latency", str(latency),
           "--slots", "256", "--rpm", str(rpm)] + ([] if headers else ["--no-rate-headers"])  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("LOOPBACK "):
        raise RuntimeError(f"loopback server did not start: {line!r}")
    return proc, line.split()[1]


def measure(seconds: float, rpm: float, latency: float, headers: bool) -> dict:
    from core.backends import BackendConfig, ChatRequest, make_backend
    from core.jobs import Limits, Stage, create_job
    from core.jobs.engine import make_runner
    from core.project import Project

    class Echo(Stage):
        name = "bench_limit"
        cache = False

        def build(self, item):
            return ChatRequest.user(f"limit {item.key}", max_tokens=16)

    os.environ.setdefault("MMSTUDIO_HOME", tempfile.mkdtemp(prefix="mmstudio-bench-home-"))
    limit = rpm / 60.0
    n = int(limit * seconds * 2) + 100  # more than the run can finish
    proc, url = _spawn(latency, rpm, headers)
    try:
        with tempfile.TemporaryDirectory() as tmp, Project.create(Path(tmp) / "p") as project:
            backend = make_backend(BackendConfig(name="lb", kind="openai", model="gpt-4o-mini",
                                                 base_url=url))  # fmt: skip
            limits = Limits.from_backend(backend)
            job_id = create_job(project.db, "bench_limit", [str(i) for i in range(n)])
            runner = make_runner(project.db, job_id, Echo(), backend, limits)
            timer = threading.Timer(seconds, runner.stop)
            timer.start()
            try:
                runner.run()
            finally:
                timer.cancel()
            rows = project.db.fetchall(
                "SELECT epoch(started_at) + latency_ms / 1000, outcome, error_class "
                "FROM requests WHERE job_id = ? ORDER BY 1", [job_id],
            )  # fmt: skip
            window = int(runner._limiter.window)
            learnt = runner._limiter.rate_per_s
    finally:
        proc.stdin.close()
        proc.wait(10)
    t0 = rows[0][0]
    end = rows[-1][0]
    warm = min(60.0, seconds / 3)
    after = [r for r in rows if r[0] - t0 >= warm]
    ok = sum(r[1] == "ok" for r in after)
    throttled = sum(r[2] == "rate_limited" for r in after)
    span = max(1e-9, end - (t0 + warm))
    rps = ok / span
    return {
        "headers": headers, "limit_rps": round(limit, 3), "seconds": seconds,
        "warmup_s": round(warm, 1), "answered_rps": round(rps, 3),
        "throughput_vs_limit": round(rps / limit, 3),
        "share_429_after_warmup": round(throttled / max(1, len(after)), 4),
        "calls": len(rows), "calls_429": sum(r[2] == "rate_limited" for r in rows),
        "final_window": window, "paced_at_rps": None if learnt is None else round(learnt, 3),
    }  # fmt: skip


def report(seconds: float, rpm: float, latency: float) -> list[dict]:
    out = []
    for headers in (True, False):
        r = measure(seconds, rpm, latency, headers)
        out.append(r)
        what = "x-ratelimit headers" if headers else "no headers (429s only)"
        print(f"adaptive, {what:<24} {r['answered_rps']:7.2f} req/s of a hidden "
              f"{r['limit_rps']:.2f}/s limit: ratio {r['throughput_vs_limit']:.3f} (target >= 0.9), "
              f"429s after {r['warmup_s']:.0f} s warm-up {r['share_429_after_warmup'] * 100:.2f} % "
              f"(target < 2 %), window {r['final_window']}")  # fmt: skip
    return out
