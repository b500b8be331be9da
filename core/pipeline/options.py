"""Typed options per stage: what each stage reads, stored as its job's params.

Every stage's options subclass `RunOptions` (the fields every stage takes) with its own fields,
each declared with `opt()` (core/pipeline/option_fields.py: label, CLI flag, choices, bounds),
so that `mmstudio run` and the Jobs form build the chosen stage's own options from them.
`StageOptions`, the union of the built-ins, is for scripts; `take()` keeps a stage's fields. Stored params are read back with `from_json`, which refuses a key that no stage
knows (a typo or a newer version), so a resumed job never runs with an option silently dropped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from core import itypes as itype_registry
from core.pipeline.option_fields import PipelineError, check_choices, opt  # noqa: F401
from core.vocab import ITEM_STATUSES, LANGS

# Minimum caption length: words for English, characters for Chinese (see textutil).
DEFAULT_CAPTION_MIN = {"en": 60, "zh": 100}
DEFAULT_LONG_MIN_WORDS = {"en": 60, "zh": 100}
# Keys a front-end stores beside the options (the Jobs panel's scope), and keys older versions
# stored: all are known, none is an option of the stage that reads them back.
ENVELOPE_KEYS = frozenset({"scope", "requested_stage", "backend_kind"})


def _default_counts() -> dict[str, int]:
    return {t.name: t.default_count for t in itype_registry.all_types()}


def _itype_names() -> tuple[str, ...]:
    return tuple(itype_registry.names())


# Which instructions a stage reads; none chosen: the stage's own default (verify and blind:
# the undecided ones; expand: passed and accepted ones).
_STATUS_LIST = dict(
    kind="choices",
    choices=ITEM_STATUSES,
    noun="status(es)",
    vocabulary="status",
    label="Only items in these statuses",
    help="verify, blind, expand: only items of these statuses, e.g. new,needs_review "
    "(default: the stage's own)",
)
# Chosen instructions (any status): the review pane's re-verify of one item; not on the form.
_ITEM_IDS = dict(
    flag="--items",
    form=False,
    noun="instruction",
    help="verify, blind: only these instructions; generate: regenerate these in place "
    "(ids, e.g. 4,9)",
)


@dataclass
class RunOptions:
    """Options every stage takes."""

    lang: str = opt("en", label="Language", choices=LANGS, help="output language",
                    choice_labels={"en": "English", "zh": "Chinese"})  # fmt: skip
    domain: str | None = opt(None, help="only images of this domain", form=False)
    # only these images (None: no such filter); the Jobs form's scope sets it
    image_ids: list[int] | None = opt(
        None, flag="--images", form=False, noun="image",
        help="only these images: comma-separated ids, e.g. 1,2,3",
    )  # fmt: skip
    limit: int | None = opt(None, label="Limit", minimum=0, special="no limit",
                            help="at most this many images (items for expand)")  # fmt: skip
    force: bool = opt(False, label="Redo items that already have a result",
                      help="redo items that already have a result")  # fmt: skip
    # ask the model again rather than take the reply cache's answer: the n-th re-sample gets
    # a new seed and temperature, so a new request key (core.jobs.stage.resampled); the Jobs
    # tab's Re-sample button sets it
    resample: int = opt(
        0, minimum=0, form=False,
        help="with --force: ask the model again (new seed and temperature: a new request "
        "key) instead of taking the reply cache's answer; N counts the re-samples",
    )  # fmt: skip
    # a job stops cleanly once it has spent this
    budget_usd: float | None = opt(
        None, flag="--budget", label="Budget", minimum=0, special="no budget", decimals=4,
        prefix="$ ", help="stop the job cleanly past this many USD",
    )  # fmt: skip

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))

    @classmethod
    def take(cls, source) -> RunOptions:
        """These options from `source` (any options object or a dict): the fields this class
        has; another stage's options in `source` are not this stage's business."""
        values = source if isinstance(source, dict) else source.to_json()
        return cls(**{k: v for k, v in values.items() if k in cls.field_names()})

    @classmethod
    def from_json(cls, obj: dict | None) -> RunOptions:
        """Stored params back to options; a key no stage knows is an error."""
        obj = obj or {}
        unknown = sorted(set(obj) - known_option_names() - ENVELOPE_KEYS)
        if unknown:
            raise PipelineError(
                f"unknown option(s) {', '.join(unknown)} for {cls.__name__}; "
                f"known: {', '.join(sorted(cls.field_names()))}"
            )
        return cls.take(obj)

    def validate(self) -> None:
        if self.lang not in LANGS:
            raise PipelineError(f"unknown language {self.lang!r}; expected en or zh")
        check_choices(self)
        if self.resample < 0:
            raise PipelineError(f"resample must be 0 or more, not {self.resample}")


@dataclass
class CaptionOptions(RunOptions):
    caption_min: int | None = opt(
        None, label="Minimum caption length", minimum=0, special="default",
        help="caption: shorter captions are asked for again (words; characters for Chinese)",
    )  # fmt: skip

    def min_caption(self, lang: str) -> int:
        return self.caption_min or DEFAULT_CAPTION_MIN[lang]


@dataclass
class GenerateOptions(RunOptions):
    itypes: list[str] = opt(
        default_factory=lambda: list(itype_registry.names()), flag="--types", label="Types",
        choices=_itype_names, noun="type(s)", vocabulary="itype",
        help="generate: comma-separated instruction types (default: all)",
    )  # fmt: skip
    counts: dict = opt(
        default_factory=_default_counts, label="Items per type", minimum=1, maximum=20,
        vocabulary="itype",
        help="generate: items asked per request and type, e.g. judgement=4,short_vqa=3",
    )  # fmt: skip
    seeds_k: int = opt(3, flag="--seeds", label="Seed questions per request", minimum=0,
                       maximum=20, help="generate: seed questions per request")  # fmt: skip
    fmt: str = opt(
        "tagged", flag="--format", label="Output format", choices=("tagged", "json"),
        choice_labels={"tagged": "Tagged (the paper's layout)", "json": "JSON"},
        help="generate: the paper's tagged layout or JSON",
    )  # fmt: skip
    # generate from the caption only, as the paper does
    attach_image: bool = opt(False, flag="--with-image", label="Send the image too",
                             help="generate: send the image too")  # fmt: skip
    # long QAs of one image become one conversation
    multi_round: bool = opt(
        True, label="Long answers of one image as one conversation",
        help="generate: store the long answers of one image as one conversation",
    )  # fmt: skip
    temperature: float = opt(0.7, label="Temperature", minimum=0, maximum=2,
                             help="generate: sampling temperature")  # fmt: skip
    sample_seed: int = opt(0, label="Sampling seed", minimum=0, maximum=2**31 - 1,
                           help="generate: seed of the seed-question draw and the sampler "
                                "(a new one asks anew instead of hitting the cache)")  # fmt: skip
    # constrained output: longest question / option / answer (for scripts)
    max_chars: dict | None = opt(None, flag=None, form=False)
    # Regenerate these instructions in place, one new item each (their image, type and
    # language), instead of filling images that have none (core/pipeline/selection checks).
    instruction_ids: list[int] | None = opt(None, **_ITEM_IDS)

    def validate(self) -> None:
        known = itype_registry.names()
        unknown = sorted(set(self.itypes) - set(known))
        if unknown:
            raise PipelineError(
                f"unknown type(s) {', '.join(unknown)}; expected {', '.join(known)}"
            )
        super().validate()
        if self.fmt not in ("tagged", "json"):
            raise PipelineError(f"unknown output format {self.fmt!r}; expected tagged or json")


VERIFY_AGAINST = ("image", "caption")


@dataclass
class VerifyOptions(RunOptions):
    # which instructions (None: the undecided ones)
    statuses: list[str] | None = opt(None, **_STATUS_LIST)
    instruction_ids: list[int] | None = opt(None, **_ITEM_IDS)  # core/pipeline/selection
    similarity: float = opt(0.5, label="Short answers agree at", minimum=0, maximum=1,
                            help="verify: short answers agree at or above this")  # fmt: skip
    against: str = opt(
        "image", label="Verify against", choices=VERIFY_AGAINST,
        choice_labels={"image": "The image (a vision model)",
                       "caption": "The caption (a text model)"},
        help="verify: the VLM sees the image, or a text model reads the caption",
    )  # fmt: skip

    def validate(self) -> None:
        super().validate()
        if self.against not in VERIFY_AGAINST:
            raise PipelineError(f"unknown verify mode {self.against!r}; expected image or caption")


@dataclass
class BlindOptions(RunOptions):
    statuses: list[str] | None = opt(None, **_STATUS_LIST)
    instruction_ids: list[int] | None = opt(None, **_ITEM_IDS)
    blind_trials: int = opt(3, label="Trials per item", minimum=1, maximum=20,
                            help="blind: times each judgement / multiple-choice item is asked")  # fmt: skip
    blind_threshold: float = opt(1.0, label="Flag at score", minimum=0, maximum=1,
                                 help="blind: flag items scoring at least this "
                                      "(0-1; 1 = right every time)")  # fmt: skip

    def validate(self) -> None:
        super().validate()
        if not 1 <= self.blind_trials <= 20:
            raise PipelineError(f"blind trials must be 1 to 20, not {self.blind_trials}")


EXPAND_MODES = ("rephrase", "translate", "import")


@dataclass
class ExpandOptions(RunOptions):
    mode: str = opt(
        "rephrase", label="Expand", choices=EXPAND_MODES,
        choice_labels={"rephrase": "Rephrase questions", "translate": "Translate EN ⇄ ZH",
                       "import": "Import a dataset file"},
        help="expand: what to do",
    )  # fmt: skip
    # import: a LLaVA / ShareGPT file or export folder
    source: str | None = opt(None, label="Dataset file or folder (import)",
                             help="expand --mode import: a LLaVA/ShareGPT file or export folder")  # fmt: skip
    source_format: str | None = opt(None, label="Dataset format (import)",
                                    help="expand --mode import: llava | sharegpt | ... (guessed)")  # fmt: skip
    statuses: list[str] | None = opt(None, **_STATUS_LIST)

    def validate(self) -> None:
        super().validate()
        if self.mode not in EXPAND_MODES:
            raise PipelineError(
                f"unknown expand mode {self.mode!r}; expected {', '.join(EXPAND_MODES)}"
            )


@dataclass
class OcrOptions(RunOptions):
    ocr_engine: str = opt(
        "rapidocr", label="OCR engine", choices=("rapidocr", "vlm"),
        choice_labels={"rapidocr": "Embedded (RapidOCR)", "vlm": "The vision model"},
        help="ocr: the embedded engine or the vision model",
    )  # fmt: skip
    # embedded OCR threads (None: the engine decides)
    threads: int | None = opt(None, label="OCR threads", minimum=0, maximum=64,
                              special="automatic", help="ocr: threads of the embedded engine")  # fmt: skip

    def validate(self) -> None:
        super().validate()
        if self.ocr_engine not in ("rapidocr", "vlm"):
            raise PipelineError(f"unknown OCR engine {self.ocr_engine!r}; expected rapidocr or vlm")


@dataclass
class StageOptions(
    CaptionOptions, GenerateOptions, VerifyOptions, BlindOptions, ExpandOptions, OcrOptions
):
    """Every built-in stage's options in one, for scripts and tests: `prepare()` keeps the
    fields of the stage it runs. The CLI and the Jobs form build each stage's own class."""


# Every stage's options class, built-ins first (the CLI's flags follow this order).
OPTION_CLASSES: list[type[RunOptions]] = [
    RunOptions, CaptionOptions, GenerateOptions, VerifyOptions, BlindOptions, ExpandOptions,
    OcrOptions,
]  # fmt: skip


def register_options(cls: type[RunOptions]) -> None:
    """Options of a stage added later (its keys become known to `from_json`, its fields get
    CLI flags and Jobs-form widgets)."""
    if cls not in OPTION_CLASSES:
        OPTION_CLASSES.append(cls)


_BUILTINS = len(OPTION_CLASSES)


def unregister_options(cls: type[RunOptions]) -> None:
    if cls in OPTION_CLASSES[_BUILTINS:]:
        OPTION_CLASSES.remove(cls)


def known_option_names() -> frozenset[str]:
    return frozenset(name for cls in OPTION_CLASSES for name in cls.field_names())
