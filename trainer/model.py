"""Load the base model safely, optionally in 4 bits, and put LoRA adapters on its language model."""

from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path

from trainer.config import TrainConfig
from trainer.errors import ModelError
from trainer.families import Family, family_for, load_processor

log = logging.getLogger(__name__)

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def resolve_precision(precision: str) -> str:
    """'bf16' | 'fp16' | 'fp32' for this machine; 'auto' picks the fastest safe choice."""
    import torch

    if precision != "auto":
        return precision
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


def torch_dtype(precision: str):
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]


def check_weights_safe(cfg: TrainConfig) -> None:
    """Pickle checkpoints can run code when loaded: refuse them unless the user opted in."""
    folder = Path(cfg.model)
    if cfg.allow_pickle or not folder.is_dir():
        return
    files = [p.name for p in folder.rglob("*") if p.is_file()]
    if any(n.endswith(".safetensors") for n in files):
        return
    pickles = [n for n in files if n.endswith(PICKLE_SUFFIXES)]
    if pickles:
        raise ModelError(
            f"{folder} has only pickle weights ({pickles[0]}), which can run code when loaded. "
            "Convert them to safetensors, or set allow_pickle: true if you trust their source."
        )


def load_base(cfg: TrainConfig, precision: str, device_index: int | None = None):
    """(model, processor, family). The model is the plain base model, frozen LoRA-ready."""
    from transformers import AutoConfig, AutoModelForImageTextToText

    check_weights_safe(cfg)
    common = {"trust_remote_code": cfg.trust_remote_code, "revision": cfg.revision}
    try:
        config = AutoConfig.from_pretrained(cfg.model, **common)
    except (OSError, ValueError) as exc:
        msg = _first_line(exc)
        if "custom code" in msg and not cfg.trust_remote_code:
            msg += " Set trust_remote_code: true only if you trust this code."
        raise ModelError(f"cannot load the model config of {cfg.model}: {msg}") from None
    family = family_for(config.model_type)
    try:
        processor = load_processor(cfg.model, family, **common)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"cannot load the processor of {cfg.model}: {_first_line(exc)}") from None
    kwargs = dict(common, dtype=torch_dtype(precision))
    if not cfg.allow_pickle:
        kwargs["use_safetensors"] = True
    if cfg.quantization == "4bit":
        kwargs.update(_four_bit(family, precision, device_index))
    try:
        model = AutoModelForImageTextToText.from_pretrained(cfg.model, **kwargs)
    except (OSError, ValueError) as exc:
        msg = _first_line(exc)
        if not cfg.allow_pickle and "safetensors" in msg.lower():
            msg += " (only safetensors weights are loaded unless allow_pickle: true)"
        raise ModelError(f"cannot load {cfg.model}: {msg}") from None
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    log.info("loaded %s (%s family, %s)", cfg.model, family.name, precision)
    return model, processor, family


def _four_bit(family: Family, precision: str, device_index: int | None) -> dict:
    import torch

    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModelError(
            "quantization: 4bit (QLoRA) needs bitsandbytes: pip install bitsandbytes "
            "(in the Python environment that runs the trainer)"
        )
    if not torch.cuda.is_available():
        raise ModelError("quantization: 4bit (QLoRA) needs a CUDA GPU; none is visible")
    from transformers import BitsAndBytesConfig

    compute = torch_dtype(precision if precision != "fp32" else "bf16")
    quant = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute,
        llm_int8_skip_modules=list(family.quant_skip),
    )
    return {"quantization_config": quant, "device_map": {"": device_index or 0}}


def lora_targets(model, cfg: TrainConfig, family: Family) -> tuple[str, list[str]]:
    """The target regex and the module names it selects; refuses vision modules by default."""
    regex = cfg.lora.target_modules or family.default_targets()
    pattern = re.compile(regex)
    linear = [n for n, m in model.named_modules() if _is_linear(m)]
    names = [n for n in linear if pattern.fullmatch(n)]
    if not names:
        sample = ", ".join(linear[:: max(1, len(linear) // 6)][:6])
        raise ModelError(
            f"lora.target_modules {regex!r} matches no linear layer of this model "
            f"(some of its layers: {sample})"
        )
    vision = [n for n in names if re.search(family.vision_scope, n)]
    if vision and not cfg.lora.allow_vision:
        raise ModelError(
            f"lora.target_modules selects vision-encoder layers (e.g. {vision[0]}); narrow the "
            "regex to the language model, or set lora.allow_vision: true"
        )
    return regex, names


def _is_linear(module) -> bool:
    import torch

    if isinstance(module, torch.nn.Linear):
        return True
    # bitsandbytes' Linear4bit subclasses nn.Linear, but other quantized layers may not.
    return type(module).__name__ in {"Linear4bit", "Linear8bitLt"}


def add_lora(model, cfg: TrainConfig, family: Family):
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    regex, names = lora_targets(model, cfg, family)
    if cfg.quantization == "4bit":
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=cfg.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    lora = LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=regex,
        bias="none",
    )
    model = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    log.info("LoRA on %d layers: %d trainable of %d parameters", len(names), trainable, total)
    return model, {"lora_layers": len(names), "trainable_params": trainable, "total_params": total}


def merge_and_save(cfg: TrainConfig, adapter_dir: Path, processor, folder: Path) -> Path:
    """A standalone model with the adapter folded in, saved as safetensors.

    The base is loaded afresh in full precision rather than merged in place, so a 4-bit
    (QLoRA) run merges into unquantized weights and the training model stays untouched.
    """
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    from trainer.families import save_processor

    precision = resolve_precision(cfg.precision)
    kwargs = {"trust_remote_code": cfg.trust_remote_code, "revision": cfg.revision}
    base = AutoModelForImageTextToText.from_pretrained(
        cfg.model,
        dtype=torch_dtype(precision),
        use_safetensors=None if cfg.allow_pickle else True,
        **kwargs,
    )
    merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    folder.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(folder)
    save_processor(processor, folder)
    return folder


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:400]
