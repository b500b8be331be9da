"""Training runs on tiny random models: the loss goes down, the run folder has what it should."""

from __future__ import annotations

import json

import pytest

from tests.trainer.exports import write_llava
from tests.trainer.helpers import events, losses_by_step, write_config
from trainer.config import load_config
from trainer.loop import run_training

pytestmark = pytest.mark.train


@pytest.mark.parametrize("family", ["llava", "qwen2_vl", "idefics3"])
def test_loss_goes_down_and_run_folder_is_complete(tiny_model, tmp_path, family):
    export = write_llava(tmp_path / "export", n=30, val=6)
    run = tmp_path / "run"
    cfg = load_config(write_config(tmp_path / "c.yaml", tiny_model(family), export, run))
    result = run_training(cfg)

    assert result["steps"] == 20
    losses = [e["loss"] for e in events(run, "train")]
    assert len(losses) == 20
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.3

    train = events(run, "train")[-1]
    for key in ("step", "loss", "lr", "tokens_per_s", "samples_per_s", "eta_s", "grad_norm"):
        assert key in train
    assert train["tokens_per_s"] > 0 and train["lr"] == pytest.approx(0.01)
    start = events(run, "start")[0]
    assert start["total_steps"] == 20 and start["family"] == family
    assert start["trainable_params"] < start["total_params"] / 2

    ckpts = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert ckpts == ["step-000010", "step-000020"]
    for name in ("adapter_model.safetensors", "adapter_config.json", "state.json"):
        assert (run / "checkpoints" / "step-000020" / name).is_file()
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    assert not list(run.rglob("*.bin"))
    adapter_cfg = json.loads((run / "adapter" / "adapter_config.json").read_text())
    assert "vision" not in adapter_cfg["target_modules"]

    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "done" and status["step"] == 20
    saved = (run / "config.yaml").read_text()
    assert str(export) in saved

    report = json.loads((run / "eval.json").read_text())
    assert report["items"] == 6 and report["held_out_rows"] == 6
    assert report["before"]["overall"]["n"] == 6 == report["after"]["overall"]["n"]
    preds = (run / "eval_predictions_after.jsonl").read_text().splitlines()
    assert len(preds) == 6


def test_gradient_accumulation_counts_optimizer_steps(tiny_model, tmp_path):
    export = write_llava(tmp_path / "export", n=20)
    run = tmp_path / "run"
    cfg = load_config(
        write_config(
            tmp_path / "c.yaml",
            tiny_model("llava"),
            export,
            run,
            max_steps=None,
            epochs=2,
            gradient_checkpointing=True,
            batch_size=2,
            grad_accum=3,
            eval={"enabled": False},
        )
    )
    run_training(cfg)
    # 20 rows, 5% held out by hash: 19 rows -> 10 batches -> 4 steps per epoch -> 8 steps.
    start = events(run, "start")[0]
    assert start["train_rows"] + start["held_out_rows"] == 20
    batches = -(-start["train_rows"] // 2)
    assert start["steps_per_epoch"] == -(-batches // 3)
    assert sorted(losses_by_step(run)) == list(range(1, 2 * start["steps_per_epoch"] + 1))
    assert not (run / "eval.json").exists()
