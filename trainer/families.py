"""What differs between model families: module names, vision parts, processor quirks.

A registry keyed by `config.model_type`; families not listed get the generic entry, which
covers most transformers VLMs whose language model sits under `language_model` or `text_model`.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

LM_PROJECTIONS = "q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj"


@dataclass(frozen=True)
class Family:
    name: str
    # Regex fragment naming the language-model subtree in module paths (transformers 5 layout).
    text_scope: str
    # Regex that matches any module of the vision encoder or projector: LoRA never goes there.
    vision_scope: str
    # Module-name substrings bitsandbytes must leave unquantized for 4-bit loading.
    quant_skip: tuple[str, ...]
    # Sub-processors that need torchvision (video); dropped when torchvision is absent.
    video_processor: bool = False

    def default_targets(self) -> str:
        return rf".*{self.text_scope}.*\.({LM_PROJECTIONS})"


GENERIC = Family(
    name="generic",
    text_scope="(language_model|text_model)",
    vision_scope=r"(vision_tower|vision_model|visual|multi_modal_projector|connector|mm_projector)",
    quant_skip=("vision_tower", "vision_model", "visual", "multi_modal_projector", "lm_head"),
)

FAMILIES: dict[str, Family] = {
    "llava": Family(
        "llava",
        "language_model",
        r"(vision_tower|multi_modal_projector)",
        ("vision_tower", "multi_modal_projector", "lm_head"),
    ),
    "llava_next": Family(
        "llava_next",
        "language_model",
        r"(vision_tower|multi_modal_projector|image_newline)",
        ("vision_tower", "multi_modal_projector", "lm_head"),
    ),
    "qwen2_vl": Family(
        "qwen2_vl", "language_model", r"(visual)", ("visual", "lm_head"), video_processor=True
    ),
    "qwen2_5_vl": Family(
        "qwen2_5_vl", "language_model", r"(visual)", ("visual", "lm_head"), video_processor=True
    ),
    "idefics3": Family(
        "idefics3",
        "text_model",
        r"(vision_model|connector)",
        ("vision_model", "connector", "lm_head"),
    ),
    "smolvlm": Family(
        "smolvlm",
        "text_model",
        r"(vision_model|connector)",
        ("vision_model", "connector", "lm_head"),
        video_processor=True,
    ),
}


def family_for(model_type: str) -> Family:
    return FAMILIES.get(model_type, GENERIC)


def _has_torchvision() -> bool:
    return importlib.util.find_spec("torchvision") is not None


def load_processor(source: str, family: Family, *, trust_remote_code: bool, revision=None):
    """AutoProcessor, or, where torchvision is missing, the same processor without video.

    Processors with a video sub-processor cannot be built without torchvision; images alone
    need only the PIL image processor, so we assemble the processor from its parts.
    """
    from transformers import AutoProcessor

    kw = {"trust_remote_code": trust_remote_code, "revision": revision}
    if not (family.video_processor and not _has_torchvision()):
        return AutoProcessor.from_pretrained(source, **kw)
    from transformers import AutoImageProcessor, AutoTokenizer
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES

    cls_name = PROCESSOR_MAPPING_NAMES[family.name]
    module = importlib.import_module(f"transformers.models.{family.name}")
    proc_cls = getattr(module, cls_name)
    tokenizer = AutoTokenizer.from_pretrained(source, **kw)
    image_processor = AutoImageProcessor.from_pretrained(source, **kw)
    template = _chat_template(source, tokenizer, revision)
    extra = _processor_kwargs(source, proc_cls, revision)
    return image_only(proc_cls)(image_processor, tokenizer, chat_template=template, **extra)


def image_only(proc_cls):
    """A subclass of `proc_cls` whose sub-processors are the image processor and tokenizer only."""
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyProcessor(proc_cls):
        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            # The parent passes video_processor positionally; the mixin zips positional
            # arguments with this signature's sub-processors, so the None is dropped.
            proc_cls.__init__(
                self, image_processor, tokenizer, None, chat_template=chat_template, **kwargs
            )

        def apply_chat_template(self, conversation, chat_template=None, **kwargs):
            # Some families fill in video defaults here from the video processor we left out.
            return ProcessorMixin.apply_chat_template(self, conversation, chat_template, **kwargs)

    # The parent's signature without video_processor: the mixin derives both the list of
    # sub-processors and the settings it saves (image_seq_len, ...) from it.
    sig = inspect.signature(proc_cls.__init__)
    params = [p for name, p in sig.parameters.items() if name != "video_processor"]
    ImageOnlyProcessor.__init__.__signature__ = sig.replace(parameters=params)
    ImageOnlyProcessor.__name__ = proc_cls.__name__
    return ImageOnlyProcessor


def _processor_kwargs(source: str, proc_cls, revision) -> dict:
    """Settings saved in processor_config.json that the processor's constructor takes."""
    import json

    path = Path(source) / "processor_config.json"
    if not Path(source).is_dir():
        from huggingface_hub import hf_hub_download

        try:
            path = Path(hf_hub_download(source, "processor_config.json", revision=revision))
        except Exception:  # noqa: BLE001 - many checkpoints have none
            return {}
    if not path.is_file():
        return {}
    saved = json.loads(path.read_text(encoding="utf-8"))
    params = inspect.signature(proc_cls.__init__).parameters
    skip = {"self", "image_processor", "tokenizer", "video_processor", "chat_template"}
    return {k: v for k, v in saved.items() if k in params and k not in skip}


def _chat_template(source: str, tokenizer, revision) -> str | None:
    folder = Path(source)
    if not folder.is_dir():
        from huggingface_hub import hf_hub_download

        for name in ("chat_template.jinja", "chat_template.json"):
            try:
                folder = Path(hf_hub_download(source, name, revision=revision)).parent
                break
            except Exception:  # noqa: BLE001 - absent file or offline; try the next name
                continue
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    js = folder / "chat_template.json"
    if js.is_file():
        import json

        return json.loads(js.read_text(encoding="utf-8")).get("chat_template")
    return getattr(tokenizer, "chat_template", None)


def save_processor(processor, folder: Path) -> None:
    """Save a processor so that `load_processor` (and AutoProcessor, with torchvision) reads it."""
    folder.mkdir(parents=True, exist_ok=True)
    processor.save_pretrained(folder)
    template = getattr(processor, "chat_template", None)
    if template and not (folder / "chat_template.jinja").exists():
        (folder / "chat_template.jinja").write_text(template, encoding="utf-8")
