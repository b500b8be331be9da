"""What this machine can train, without importing torch: a cheap look for a GPU at start-up,
refined by the environment check (which imports torch in the trainer's own Python).

The memory need of a LoRA run is a rough floor (the base weights in the precision the trainer
picks, plus room for activations and the adapter), good enough to tell a 256M model from a 7B
one; the model sizes come from resources/train_presets.yaml, else from the model's name.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

# Bytes per base-model weight for the precision trainer.model.resolve_precision picks:
# bf16/fp16 on CUDA, fp32 elsewhere; 4-bit QLoRA (NF4 plus its scales) on CUDA only.
BYTES_PER_PARAM = {"cuda": 2.0, "cpu": 4.0, "mps": 4.0}
QLORA_BYTES_PER_PARAM = 0.55
OVERHEAD_FACTOR = 1.15  # the adapter, its optimizer state and buffers over the weights
ACTIVATIONS_GB = 1.5  # one small batch with gradient checkpointing
BIG_ON_CPU_B = 1.0  # above this many billions of weights, CPU training takes days
_SIZE_IN_NAME = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s*([bBmM])(?![A-Za-z])")


@dataclass(frozen=True)
class Machine:
    accelerator: str  # "cuda", "mps" or "cpu"
    gpus: tuple[str, ...] = ()
    gpu_memory_gb: float | None = None  # the largest GPU's, when known
    ram_gb: float | None = None
    checked: bool = False  # True once the trainer's Python (torch) said so

    @property
    def memory_gb(self) -> float | None:
        """The memory a run's weights live in: the GPU's, else the machine's RAM."""
        return self.gpu_memory_gb if self.accelerator == "cuda" else self.ram_gb


def _ram_gb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (AttributeError, ValueError, OSError):
        return None


def _nvidia_gpus(proc: Path) -> tuple[str, ...]:
    """The NVIDIA driver lists each GPU under /proc/driver/nvidia/gpus (no process started)."""
    names = []
    try:
        folders = sorted(p for p in (proc / "driver" / "nvidia" / "gpus").iterdir() if p.is_dir())
    except OSError:
        return ()
    for folder in folders:
        name = "NVIDIA GPU"
        try:
            for line in (folder / "information").read_text(errors="replace").splitlines():
                if line.startswith("Model:"):
                    name = line.split(":", 1)[1].strip() or name
        except OSError:
            pass
        names.append(name)
    return tuple(names)


def detect_machine(proc: Path = Path("/proc")) -> Machine:
    """A look that costs microseconds: the driver's files, the platform, the RAM size."""
    ram = _ram_gb()
    gpus = _nvidia_gpus(proc)
    if gpus:
        return Machine("cuda", gpus, None, ram)
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return Machine("mps", ("Apple GPU",), None, ram)
    return Machine("cpu", (), None, ram)


def from_env_check(info: dict, before: Machine) -> Machine:
    """What the environment check (torch in the trainer's Python) says about the machine."""
    if not info.get("torch"):
        return before  # no torch there: it could not look
    if info.get("cuda"):
        memory = [float(m) for m in info.get("devices_memory_gb") or [] if m]
        return replace(
            before,
            accelerator="cuda",
            gpus=tuple(info.get("devices") or ()),
            gpu_memory_gb=max(memory) if memory else None,
            checked=True,
        )
    accelerator = "mps" if info.get("mps") else "cpu"
    return replace(before, accelerator=accelerator, gpus=(), gpu_memory_gb=None, checked=True)


def params_from_name(model: str) -> float | None:
    """Billions of weights read from a name such as 'SmolVLM-256M' or 'llava-1.5-7b'."""
    found = _SIZE_IN_NAME.findall(Path(model).name or model)
    if not found:
        return None
    number, unit = found[-1]
    return float(number) / (1000.0 if unit in "mM" else 1.0)


def memory_need_gb(params_b: float, accelerator: str, qlora: bool = False) -> float:
    per_param = BYTES_PER_PARAM.get(accelerator, BYTES_PER_PARAM["cpu"])
    if qlora and accelerator == "cuda":
        per_param = QLORA_BYTES_PER_PARAM
    return params_b * per_param * OVERHEAD_FACTOR + ACTIVATIONS_GB


@dataclass(frozen=True)
class Fit:
    params_b: float | None
    need_gb: float | None
    fits: bool  # False: too big for the memory, or a big model on a CPU
    reason: str  # "ok", "unknown", "too_big", "slow_on_cpu"


def model_fit(params_b: float | None, machine: Machine, qlora: bool = False) -> Fit:
    if params_b is None:
        return Fit(None, None, True, "unknown")
    need = memory_need_gb(params_b, machine.accelerator, qlora)
    memory = machine.memory_gb
    if memory is not None and need > memory:
        return Fit(params_b, need, False, "too_big")
    if machine.accelerator != "cuda" and params_b > BIG_ON_CPU_B:
        return Fit(params_b, need, False, "slow_on_cpu")
    return Fit(params_b, need, True, "ok")


def smallest_model(presets) -> tuple[object, str, float] | None:
    """(preset, model, billions of weights) of the smallest suggested model of known size."""
    best = None
    for preset in presets:
        for model in preset.models:
            size = preset.sizes.get(model) or params_from_name(model)
            if size is not None and (best is None or size < best[2]):
                best = (preset, model, size)
    return best


def default_choice(presets, machine: Machine) -> tuple[object, str]:
    """The preset and model the form opens with: the first preset's first model where it fits
    this machine, else the smallest suggested model (a 7B default on a CPU is a trap)."""
    first = presets[0]
    model = first.models[0]
    if model_fit(first.sizes.get(model) or params_from_name(model), machine).fits:
        return first, model
    small = smallest_model(presets)
    return (small[0], small[1]) if small else (first, model)
