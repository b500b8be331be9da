"""Done-when of the Batch API: a 1,000-item batch run killed with SIGKILL between upload and
download, whose batches then expire with partial output, finishes with nothing lost, nothing
asked twice and nothing paid twice, every answer at the batch price."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from core.devtools.loopback import LoopbackServer
from core.project import Project
from core.store import batches as bstore
from core.store import jobs as store
from tests.conftest import REPO

N = 1000
PER_BATCH = 300  # 4 input files: 300, 300, 300, 100


def _spawn(root, url, on_expiry) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.killable_batch_job", str(root), url, str(N),
         str(PER_BATCH), on_expiry],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("on_expiry", ["batch", "live"])
def test_kill_9_while_batches_are_out_then_expiry_loses_and_repeats_nothing(tmp_path, on_expiry):
    root = tmp_path / "proj"
    with LoopbackServer(latency=0.0, slots=64) as server:
        server.batches.delay_s = 30.0  # the batches are still running when the process dies
        server.batches.expire_after = 120  # ... and each answers 120 requests, then expires
        proc = _spawn(root, server.url, on_expiry)
        submitted = 0
        for line in proc.stdout:
            if "submitted" in line:
                submitted += 1
                if submitted == 2:  # mid-submission: 2 batches out, 2 files still to send
                    os.kill(proc.pid, signal.SIGKILL)
                    break
        proc.wait(30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
        created = len(server.batches.batches)
        assert created >= 2

        with Project.open(root) as project:
            job_id = store.list_jobs(project.db)[0]["id"]
            assert store.job_outputs(project.db, job_id) == []  # nothing downloaded yet
            assert store.item_counts(project.db, job_id)["in_batch"] >= 2 * PER_BATCH

        # the batches sent before the kill expire with partial output; later ones complete
        server.batches.delay_s = 0.0
        server.batches.expire_after = None
        proc = _spawn(root, server.url, on_expiry)
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert f"FINAL done {N}" in out

        with Project.open(root) as project:
            counts = store.item_counts(project.db, job_id)
            outputs = Counter(k for k, _ in store.job_outputs(project.db, job_id))
            log = store.requests_log(project.db, job_id)
            usage = store.job_usage(project.db, job_id)
            rows = bstore.job_batches(project.db, job_id)
        assert counts["done"] == N and counts["failed"] == counts["pending"] == 0
        assert len(outputs) == N and set(outputs.values()) == {1}  # zero lost, zero twice
        assert Counter(r["item_key"] for r in log if r["outcome"] == "ok") == Counter(
            {str(i): 1 for i in range(N)}
        )  # one paid answer per item
        asked = Counter(server.stats.seen_text)
        assert len(asked) == N and set(asked.values()) == {1}  # nothing asked twice
        expired = [r for r in rows if r["status"] == "expired"]
        assert len(expired) >= 2 and all(r["settled"] for r in rows)
        batched = [r for r in log if r["batch"]]
        if on_expiry == "batch":
            assert len(batched) == N
        else:
            assert len(batched) < N and len(log) - len(batched) > 0
        price = {True: 0.5, False: 1.0}
        expect = sum(
            (r["prompt_tokens"] * 0.15 + r["completion_tokens"] * 0.60) / 1e6 * price[r["batch"]]
            for r in log
        )
        assert usage["cost_usd"] == pytest.approx(expect)
        print(f"{on_expiry}: {created} batches before the kill, {len(rows)} in all, "
              f"{len(expired)} expired, {len(batched)} answers at the batch price")  # fmt: skip
