"""Checkpoints a killed run can resume from: adapter, optimizer, schedule and RNG state.

A checkpoint is written into a temporary folder and renamed into place once complete, so
the newest `step-NNNNNN` folder is always whole. Optimizer and RNG tensors are read back with
`weights_only=True`, which cannot run code, so our own checkpoints need no pickle opt-in.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

PREFIX = "step-"


def checkpoint_dir(root: Path, step: int) -> Path:
    return root / f"{PREFIX}{step:06d}"


def list_checkpoints(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    done = [p for p in root.iterdir() if p.name.startswith(PREFIX) and (p / "state.json").is_file()]
    return sorted(done, key=lambda p: int(p.name[len(PREFIX) :]))


def latest(root: Path) -> Path | None:
    found = list_checkpoints(root)
    return found[-1] if found else None


def save(root: Path, step: int, peft_model, optimizer, scheduler, state: dict, keep: int) -> Path:
    import torch

    final = checkpoint_dir(root, step)
    tmp = root / f".{final.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    peft_model.save_pretrained(tmp, safe_serialization=True)
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save(rng, tmp / "rng.pt")
    (tmp / "scheduler.json").write_text(json.dumps(scheduler.state_dict()), encoding="utf-8")
    state = dict(state, step=step, python_rng=_py_rng_state())
    # Written last: its presence is what marks the checkpoint complete.
    (tmp / "state.json").write_text(json.dumps(state), encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in list_checkpoints(root)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load(ckpt: Path, peft_model, optimizer, scheduler) -> dict:
    """Restore everything into the live objects; returns the saved trainer state."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    weights = load_file(str(ckpt / "adapter_model.safetensors"))
    result = set_peft_model_state_dict(peft_model, weights)
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise RuntimeError(f"checkpoint {ckpt} does not fit this model ({unexpected[0]})")
    optimizer.load_state_dict(torch.load(ckpt / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(json.loads((ckpt / "scheduler.json").read_text(encoding="utf-8")))
    rng = torch.load(ckpt / "rng.pt", weights_only=True)
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
    _set_py_rng_state(state.pop("python_rng", None))
    return state


def _py_rng_state():
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _set_py_rng_state(saved) -> None:
    if saved:
        random.setstate((saved[0], tuple(saved[1]), saved[2]))
