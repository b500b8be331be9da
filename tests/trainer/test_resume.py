"""A trainer process killed with SIGKILL resumes from its last checkpoint, as its own process.

The reference run goes through `mmstudio train --json`; the killed-and-restarted run must
reproduce the reference's loss at every step, which holds only if adapter, optimizer,
schedule, data position and RNG state all came back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.trainer.exports import write_llava
from tests.trainer.helpers import events, losses_by_step, write_config
from trainer import checkpoint

pytestmark = [pytest.mark.train, pytest.mark.slow]

ENV = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def _trainer(cfg) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "trainer", str(cfg)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_then_restart_continues_from_last_checkpoint(tiny_model, tmp_path):
    export = write_llava(tmp_path / "export", n=40, val=3)
    model = tiny_model("llava")
    common = dict(max_steps=30, save_steps=3, batch_size=2, eval={"max_items": 3})
    ref_cfg = write_config(tmp_path / "ref.yaml", model, export, tmp_path / "ref", **common)
    cfg = write_config(tmp_path / "run.yaml", model, export, tmp_path / "run", **common)

    cli = subprocess.run(
        [sys.executable, "-m", "core", "train", str(ref_cfg), "--json"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr[-2000:]
    summary = json.loads(cli.stdout)
    assert summary["exit_code"] == 0 and summary["run_dir"] == str(tmp_path / "ref")
    assert summary["status"]["state"] == "done" and summary["eval"]["items"] == 3
    reference = losses_by_step(tmp_path / "ref")
    assert sorted(reference) == list(range(1, 31))

    proc = _trainer(cfg)
    deadline = time.monotonic() + 240
    while not events(tmp_path / "run", "checkpoint"):
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not events(tmp_path / "run", "done")
    last = checkpoint.latest(tmp_path / "run" / "checkpoints")
    n = int(last.name.split("-")[1])
    assert 3 <= n < 30
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["state"] == "running"  # what a GUI sees of a killed run: a stale pid

    proc = _trainer(cfg)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1])["steps"] == 30
    log = events(tmp_path / "run")
    resume_at = next(i for i, e in enumerate(log) if e["event"] == "resume")
    assert log[resume_at]["step"] == n
    after = [e["step"] for e in log[resume_at:] if e["event"] == "train"]
    assert after == list(range(n + 1, 31))
    resumed = losses_by_step(tmp_path / "run")
    for step in range(1, 31):
        assert resumed[step] == pytest.approx(reference[step], abs=1e-4), step
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "done"
