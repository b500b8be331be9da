"""Config files and metrics reading shared by the trainer tests."""

from __future__ import annotations

import json
from pathlib import Path

import yaml


def write_config(path: Path, model: Path, export: Path, run: Path, **over) -> Path:
    cfg = {
        "model": str(model),
        "data": str(export),
        "output_dir": str(run),
        "lora": {"r": 8, "alpha": 16, "dropout": 0.1},
        "learning_rate": 0.01,
        "lr_scheduler": "constant",
        "warmup_ratio": 0.0,
        "max_steps": 20,
        "batch_size": 4,
        "save_steps": 10,
        "eval": {"max_new_tokens": 3, "max_items": 6},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def events(run: Path, kind: str | None = None) -> list[dict]:
    path = run / "metrics.jsonl"
    if not path.is_file():
        return []
    out = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [e for e in out if kind is None or e["event"] == kind]


def losses_by_step(run: Path) -> dict[int, float]:
    """The last logged loss of each step (a resumed run re-logs the steps it redoes)."""
    return {e["step"]: e["loss"] for e in events(run, "train")}
