"""kill -9 in the middle of a 1,000-item job, then resume: nothing lost, nothing done twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from core.devtools.loopback import LoopbackServer
from core.project import Project
from core.store import jobs as store
from tests.conftest import REPO

N = 1000


def _spawn(root, url) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.killable_job", str(root), url, str(N)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.slow
def test_kill_9_mid_job_then_resume_loses_nothing_and_repeats_nothing(tmp_path):
    root = tmp_path / "proj"
    with LoopbackServer(latency=0.01, slots=64) as server:
        proc = _spawn(root, server.url)
        killed_at = None
        for line in proc.stdout:
            if line.startswith("PROGRESS") and int(line.split()[1]) >= 300:
                os.kill(proc.pid, signal.SIGKILL)
                killed_at = int(line.split()[1])
                break
        proc.wait(30)
        assert killed_at is not None, proc.stderr.read()
        assert proc.returncode == -signal.SIGKILL

        # the file opens after the crash, and what it says is consistent
        with Project.open(root) as project:
            job_id = store.list_jobs(project.db)[0]["id"]
            states = dict(project.db.fetchall(
                "SELECT item_key, state FROM job_items WHERE job_id = ?", [job_id]
            ))  # fmt: skip
            outputs = Counter(k for k, _ in store.job_outputs(project.db, job_id))
        done_at_kill = {k for k, s in states.items() if s == "done"}
        running_at_kill = {k for k, s in states.items() if s == "running"}
        assert len(done_at_kill) >= killed_at and len(done_at_kill) < N
        assert set(outputs) == done_at_kill and set(outputs.values()) == {1}
        asked_before = {t.removeprefix("item ") for t in server.stats.seen_text}
        assert asked_before <= done_at_kill | running_at_kill  # nothing sent unclaimed

        proc = _spawn(root, server.url)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert f"FINAL done {N}" in out

        with Project.open(root) as project:
            counts = store.item_counts(project.db, job_id)
            outputs = Counter(k for k, _ in store.job_outputs(project.db, job_id))
            logged = Counter(r["item_key"] for r in store.requests_log(project.db, job_id))
        assert (
            counts["done"] == N and counts["pending"] == counts["running"] == counts["failed"] == 0
        )
        assert len(outputs) == N and set(outputs.values()) == {1}  # zero lost, zero twice

        asked = Counter({t.removeprefix("item "): n for t, n in server.stats.seen_text.items()})
        assert set(asked) == {str(i) for i in range(N)}
        asked_twice = {k for k, n in asked.items() if n > 1}
        # Only calls that were on the wire when the process died may be repeated (their
        # answers never reached the database); nothing done is ever asked again.
        assert asked_twice <= running_at_kill
        assert not asked_twice & done_at_kill
        print(
            f"killed at {killed_at} done; {len(running_at_kill)} running; {len(asked_twice)} re-asked"
        )
        assert max(asked.values()) <= 2
        assert sum(asked.values()) == N + len(asked_twice)
        assert set(logged) == {str(i) for i in range(N)}
