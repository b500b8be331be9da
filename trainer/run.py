"""The run folder: what a run writes, in files another process can follow while it runs.

    config.yaml          the resolved configuration (absolute paths, defaults filled in)
    status.json          state (running | done | failed), pid, step, total_steps, error
    metrics.jsonl        one JSON object per line, each with "event"; appended and flushed
    train.log            the log
    checkpoints/step-NNNNNN/   adapter (safetensors), optimizer, scheduler, RNG, trainer_state
    adapter/             the final adapter
    merged/              the merged model (merge: true)
    eval_before.json, eval.json, eval_predictions.jsonl

Only the main process (rank 0) writes; the helpers are no-ops elsewhere.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import yaml

from trainer.config import TrainConfig
from trainer.errors import ConfigError

# Keys whose change makes an old run folder's checkpoints meaningless for the new config.
IDENTITY_KEYS = ("model", "data", "lora", "max_length", "batch_size", "grad_accum", "seed")


class RunFolder:
    def __init__(self, path: str | Path, main: bool = True):
        self.path = Path(path)
        self.main = main
        self.checkpoints = self.path / "checkpoints"
        self.metrics_path = self.path / "metrics.jsonl"
        self.status_path = self.path / "status.json"
        self._status: dict = {}
        self.prepared = False

    def prepare(self, cfg: TrainConfig) -> None:
        """Create the folder, or check that an existing one belongs to this configuration."""
        saved = self.path / "config.yaml"
        if saved.is_file():
            old = yaml.safe_load(saved.read_text(encoding="utf-8")) or {}
            if cfg.resume == "never":
                raise ConfigError(
                    f"run folder {self.path} already holds a run and resume is 'never': "
                    "choose a new output_dir"
                )
            changed = [k for k in IDENTITY_KEYS if old.get(k) != cfg.to_dict().get(k)]
            if changed:
                raise ConfigError(
                    f"run folder {self.path} holds a run with a different {changed[0]}: "
                    "choose a new output_dir (its checkpoints would not fit this config)"
                )
        self.prepared = True
        if not self.main:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self.checkpoints.mkdir(exist_ok=True)
        atomic_write(saved, yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True))

    def log_event(self, event: str, **fields) -> None:
        if not self.main:
            return
        record = {"event": event, "time": round(time.time(), 3), **fields}
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()

    def set_status(self, **fields) -> None:
        if not self.main:
            return
        self._status.update(fields, pid=os.getpid(), updated=round(time.time(), 3))
        atomic_write(self.status_path, json.dumps(self._status, indent=2))

    def write_json(self, name: str, obj) -> Path:
        path = self.path / name
        if self.main:
            atomic_write(path, json.dumps(obj, indent=2, ensure_ascii=False))
        return path

    def read_json(self, name: str):
        path = self.path / name
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def atomic_write(path: Path, text: str) -> None:
    """Readers (the GUI) never see a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
