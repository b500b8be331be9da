"""The run configuration: one YAML file, checked field by field before anything heavy loads.

Relative paths in the file are taken relative to the file's own folder, so a config can sit
next to its export and run folder and still work from any current directory.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from trainer.errors import ConfigError

# The default first: the Training tab lists these in this order (desktop/views/train_form.py).
SCHEDULES = ("cosine", "linear", "constant", "constant_with_warmup")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
FORMATS = (None, "llava", "sharegpt")


@dataclass
class LoraConfig:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    # None: the family's language-model attention + MLP projections (trainer/families.py).
    target_modules: str | None = None
    # LoRA on vision-encoder modules is refused unless asked for: it is rarely what people want.
    allow_vision: bool = False


@dataclass
class EvalConfig:
    # "auto": the export's val/test records if any, else 5%; "meta": only those; or a fraction.
    split: float | str = "auto"
    max_items: int = 200
    max_new_tokens: int = 32
    batch_size: int = 8
    before: bool = True
    enabled: bool = True


@dataclass
class TrainConfig:
    model: str
    data: str
    output_dir: str
    format: str | None = None
    revision: str | None = None
    lora: LoraConfig = field(default_factory=LoraConfig)
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    epochs: float = 1.0
    max_steps: int | None = None
    batch_size: int = 4
    grad_accum: int = 1
    max_length: int = 2048
    precision: str = "auto"
    gradient_checkpointing: bool = False
    quantization: str | None = None
    seed: int = 42
    eval: EvalConfig = field(default_factory=EvalConfig)
    save_steps: int = 100
    save_total_limit: int = 3
    log_steps: int = 1
    group_by_length: bool = True
    num_workers: int = 0
    merge: bool = False
    resume: str = "auto"
    allow_pickle: bool = False
    trust_remote_code: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def model_is_local(self) -> bool:
        return Path(self.model).exists()


def _type_ok(value, annotation: str) -> bool:
    kinds = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "None": lambda v: v is None,
    }
    return any(
        kinds[part.strip()](value) for part in annotation.split("|") if part.strip() in kinds
    )


def _build(cls, raw: dict, where: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'the config'} must be a mapping of keys to values")
    known = {f.name: f for f in fields(cls)}
    unknown = [k for k in raw if k not in known]
    if unknown:
        key = unknown[0]
        hint = difflib.get_close_matches(str(key), known, n=1)
        more = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ConfigError(f"unknown key {where}{key!r}{more}")
    values = {}
    for name, f in known.items():
        if name not in raw:
            continue
        value = raw[name]
        sub = {"lora": LoraConfig, "eval": EvalConfig}.get(name) if cls is TrainConfig else None
        if sub is not None:
            values[name] = _build(sub, value or {}, f"{name}.")
            continue
        if isinstance(value, str) and "float" in str(f.type):
            # YAML 1.1 reads 2e-4 (no dot) as a string.
            try:
                value = float(value)
            except ValueError:
                pass
        if not _type_ok(value, str(f.type)):
            raise ConfigError(f"{where}{name}: expected {f.type}, got {value!r}")
        values[name] = value
    missing = [n for n, f in known.items() if _required(f) and n not in values]
    if missing:
        raise ConfigError(f"missing required key {where}{missing[0]!r}")
    return cls(**values)


def _required(f) -> bool:
    from dataclasses import MISSING

    return f.default is MISSING and f.default_factory is MISSING


def _check(cfg: TrainConfig) -> None:
    def need(cond: bool, msg: str) -> None:
        if not cond:
            raise ConfigError(msg)

    need(cfg.lora.r > 0, "lora.r must be a positive integer")
    need(cfg.lora.alpha > 0, "lora.alpha must be positive")
    need(0 <= cfg.lora.dropout < 1, "lora.dropout must be in [0, 1)")
    if cfg.lora.target_modules is not None:
        try:
            re.compile(cfg.lora.target_modules)
        except re.error as exc:
            raise ConfigError(f"lora.target_modules is not a valid regex: {exc}") from None
    need(cfg.learning_rate > 0, "learning_rate must be positive")
    need(cfg.lr_scheduler in SCHEDULES, f"lr_scheduler must be one of {', '.join(SCHEDULES)}")
    need(0 <= cfg.warmup_ratio < 1, "warmup_ratio must be in [0, 1)")
    need(cfg.epochs > 0, "epochs must be positive")
    need(cfg.max_steps is None or cfg.max_steps > 0, "max_steps must be a positive integer")
    need(cfg.batch_size > 0, "batch_size must be a positive integer")
    need(cfg.grad_accum > 0, "grad_accum must be a positive integer")
    need(cfg.max_length >= 16, "max_length must be at least 16 tokens")
    need(cfg.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}")
    need(cfg.quantization in (None, "4bit"), "quantization must be empty or '4bit' (QLoRA)")
    need(cfg.format in FORMATS, "format must be 'llava', 'sharegpt' or empty (detect)")
    need(cfg.save_steps > 0, "save_steps must be a positive integer")
    need(cfg.save_total_limit > 0, "save_total_limit must be at least 1")
    need(cfg.log_steps > 0, "log_steps must be a positive integer")
    need(cfg.num_workers >= 0, "num_workers must be 0 or more")
    need(cfg.resume in ("auto", "never"), "resume must be 'auto' or 'never'")
    split = cfg.eval.split
    need(
        split in ("auto", "meta") or (isinstance(split, int | float) and 0 <= split < 1),
        "eval.split must be 'auto', 'meta' or a fraction in [0, 1)",
    )
    need(cfg.eval.max_items > 0, "eval.max_items must be positive")
    need(cfg.eval.max_new_tokens > 0, "eval.max_new_tokens must be positive")
    need(cfg.eval.batch_size > 0, "eval.batch_size must be positive")


def _resolve(path: str, base: Path) -> str:
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


def from_dict(raw: dict, base: Path | None = None) -> TrainConfig:
    cfg = _build(TrainConfig, raw, "")
    _check(cfg)
    if base is not None:
        cfg.data = _resolve(cfg.data, base)
        cfg.output_dir = _resolve(cfg.output_dir, base)
        # A model path that exists next to the config is a local folder; otherwise a hub id.
        local = Path(cfg.model).expanduser()
        if not local.is_absolute() and (base / local).exists():
            cfg.model = str((base / local).resolve())
    return cfg


def load_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name} is not valid YAML: {exc}") from None
    if raw is None:
        raise ConfigError(f"{path.name} is empty")
    return from_dict(raw, path.resolve().parent)
