"""`mmstudio run --batch`: a pipeline stage through the Batch API, closed and resumed."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.project import Project
from core.store import batches as bstore
from core.store import jobs as store
from tests.pipeline.scripted import reply


def _json(capsys, argv, code=0) -> dict:
    assert main(argv) == code
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def cli_project(demo_project, loopback):
    loopback.reply = reply
    root = str(demo_project.root)
    demo_project.close()
    return root


def _add(loopback, *extra):
    assert main(["backend", "add", "lb", "--kind", "openai", "--base-url", loopback.url,
                 "--model", "gpt-4o-mini", "--replace", *extra]) == 0  # fmt: skip


def test_a_batch_run_can_be_left_and_collected_with_resume(cli_project, capsys, loopback):
    _add(loopback)
    loopback.batches.delay_s = 0.5
    capsys.readouterr()
    first = _json(capsys, ["run", cli_project, "--stage", "caption", "--backend", "lb",
                           "--batch", "--wait", "0", "--json"])  # fmt: skip
    assert first["status"] == "stopped" and first["done"] == 0
    assert first["batch"]["open"] == 1 and first["batch"]["in_batch"] == 4
    assert loopback.stats.requests == 4  # sent once, as one batch
    job = first["job_id"]

    assert main(["run", cli_project, "--resume", str(job), "--poll", "0.05"]) == 0
    text = capsys.readouterr().out
    assert "4 done" in text and "batch API: 1 batch(es), 4 answers" in text
    with Project.open(cli_project) as project:
        usage = store.job_usage(project.db, job)
        n = project.db.scalar("SELECT count(*) FROM captions")
    assert n == 4 and usage["batch_requests"] == 4
    full = (usage["prompt_tokens"] * 0.15 + usage["completion_tokens"] * 0.60) / 1e6
    assert usage["cost_usd"] == pytest.approx(full / 2)
    assert loopback.stats.requests == 4 and len(loopback.batches.batches) == 1


def test_the_backend_setting_sends_batches_and_no_batch_overrides_it(cli_project, capsys, loopback):
    _add(loopback, "--batch-api")
    capsys.readouterr()
    live = _json(capsys, ["run", cli_project, "--stage", "caption", "--backend", "lb",
                          "--no-batch", "--domain", "ocr", "--json"])  # fmt: skip
    assert live["done"] == 2 and "batch" not in live and not loopback.batches.batches
    batched = _json(capsys, ["run", cli_project, "--stage", "caption", "--backend", "lb",
                             "--poll", "0.05", "--json"])  # fmt: skip
    assert batched["done"] == 2 and batched["batch"]["requests"] == 2
    assert len(loopback.batches.batches) == 1


def test_cancel_a_batch_run_and_clear_errors(cli_project, capsys, loopback):
    _add(loopback)
    loopback.batches.delay_s = 5.0
    capsys.readouterr()
    first = _json(capsys, ["run", cli_project, "--stage", "caption", "--backend", "lb",
                           "--batch", "--wait", "0", "--json"])  # fmt: skip
    job = first["job_id"]
    out = _json(capsys, ["run", cli_project, "--resume", str(job), "--cancel", "--json"])
    assert out["status"] == "cancelled"
    (batch,) = loopback.batches.batches.values()
    assert batch["status"] == "cancelling"
    with Project.open(cli_project) as project:
        assert bstore.open_batches(project.db, job)[0]["status"] == "cancelling"

    assert main(["run", cli_project]) == 1
    assert "--stage STAGE" in capsys.readouterr().err
    assert main(["run", cli_project, "--resume", "999"]) == 1
    assert "no job 999" in capsys.readouterr().err


def test_stats_count_batch_runs_at_the_batch_price(cli_project, capsys, loopback):
    """The same prompts and replies cost half through batches, in the request log, the job
    and the per-domain x type costs of `stats`."""
    _add(loopback)
    capsys.readouterr()
    jobs = []
    for stage in ("caption", "generate"):
        out = _json(capsys, ["run", cli_project, "--stage", stage, "--backend", "lb", "--batch",
                             "--poll", "0.02", "--types", "judgement", "--json"]
                    if stage == "generate" else
                    ["run", cli_project, "--stage", stage, "--backend", "lb", "--batch",
                     "--poll", "0.02", "--json"])  # fmt: skip
        assert out["failed"] == 0 and out["batch"]["batches"] == 1
        jobs.append(out["job_id"])
    stats = _json(capsys, ["stats", cli_project, "--json"])
    with Project.open(cli_project) as project:
        logs = [r for j in jobs for r in store.requests_log(project.db, j)]
    assert logs and all(r["batch"] for r in logs)
    full = sum(r["prompt_tokens"] * 0.15 + r["completion_tokens"] * 0.60 for r in logs) / 1e6
    assert sum(r["cost_usd"] for r in logs) == pytest.approx(full / 2)
    # every image got judgement items, so the caption calls are shared out, none left over
    assert stats["pipeline"]["totals"]["cost_usd"] == pytest.approx(full / 2, abs=1e-5)
    assert stats["pipeline"]["totals"]["cost_usd"] < 0.75 * full
