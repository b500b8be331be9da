"""Typed options per stage: what each stage reads, stored as its job's params.

Every stage's options subclass `RunOptions` (the fields every stage takes) with its own fields.
`StageOptions` is the union of the built-in stages' options: what the CLI flags and the Jobs
panel's form fill in before a stage is chosen; `StageSpec.options.take()` keeps the fields that
stage has. Stored params are read back with `from_json`, which refuses a key that no stage
knows (a typo or a newer version), so a resumed job never runs with an option silently dropped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from core import itypes as itype_registry
from core.errors import StudioError
from core.vocab import LANGS

# Minimum caption length: words for English, characters for Chinese (see textutil).
DEFAULT_CAPTION_MIN = {"en": 60, "zh": 100}
DEFAULT_LONG_MIN_WORDS = {"en": 60, "zh": 100}
# Keys a front-end stores beside the options (the Jobs panel's scope), and keys older versions
# stored: all are known, none is an option of the stage that reads them back.
ENVELOPE_KEYS = frozenset({"scope", "requested_stage", "backend_kind"})


class PipelineError(StudioError):
    """A stage cannot run as asked: unknown stage or option, bad selection, no backend."""


def _default_counts() -> dict[str, int]:
    return {t.name: t.default_count for t in itype_registry.all_types()}


@dataclass
class RunOptions:
    """Options every stage takes."""

    lang: str = "en"
    domain: str | None = None
    image_ids: list[int] | None = None  # only these images (None: no such filter)
    limit: int | None = None
    force: bool = False  # redo items that already have a result
    budget_usd: float | None = None  # a job stops cleanly once it has spent this

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


@dataclass
class CaptionOptions(RunOptions):
    caption_min: int | None = None

    def min_caption(self, lang: str) -> int:
        return self.caption_min or DEFAULT_CAPTION_MIN[lang]


@dataclass
class GenerateOptions(RunOptions):
    itypes: list[str] = field(default_factory=lambda: list(itype_registry.names()))
    counts: dict = field(default_factory=_default_counts)
    seeds_k: int = 3
    fmt: str = "tagged"  # tagged | json
    attach_image: bool = False  # generate from the caption only, as the paper does
    multi_round: bool = True  # long QAs of one image become one conversation
    temperature: float = 0.7
    sample_seed: int = 0
    max_chars: dict | None = None  # constrained output: longest question / option / answer
    # Regenerate these instructions in place, one new item each (their image, type and
    # language), instead of filling images that have none (core/pipeline/selection checks).
    instruction_ids: list[int] | None = None

    def validate(self) -> None:
        super().validate()
        if self.fmt not in ("tagged", "json"):
            raise PipelineError(f"unknown output format {self.fmt!r}; expected tagged or json")


VERIFY_AGAINST = ("image", "caption")


@dataclass
class VerifyOptions(RunOptions):
    statuses: list[str] | None = None  # which instructions (None: the undecided ones)
    instruction_ids: list[int] | None = None  # only these (any status; core/pipeline/selection)
    similarity: float = 0.5  # short answers agree at or above this
    against: str = "image"  # image (the VLM sees the image) | caption (a text model)

    def validate(self) -> None:
        super().validate()
        if self.against not in VERIFY_AGAINST:
            raise PipelineError(f"unknown verify mode {self.against!r}; expected image or caption")


@dataclass
class BlindOptions(RunOptions):
    statuses: list[str] | None = None  # which instructions (None: the undecided ones)
    instruction_ids: list[int] | None = None  # only these (any status; core/pipeline/selection)
    blind_trials: int = 3  # times each item is asked
    blind_threshold: float = 1.0  # flag at or above this score

    def validate(self) -> None:
        super().validate()
        if not 1 <= self.blind_trials <= 20:
            raise PipelineError(f"blind trials must be 1 to 20, not {self.blind_trials}")


EXPAND_MODES = ("rephrase", "translate", "import")


@dataclass
class ExpandOptions(RunOptions):
    mode: str = "rephrase"  # rephrase | translate | import
    source: str | None = None  # import: a LLaVA / ShareGPT file or export folder
    source_format: str | None = None
    statuses: list[str] | None = None

    def validate(self) -> None:
        super().validate()
        if self.mode not in EXPAND_MODES:
            raise PipelineError(
                f"unknown expand mode {self.mode!r}; expected {', '.join(EXPAND_MODES)}"
            )


@dataclass
class OcrOptions(RunOptions):
    ocr_engine: str = "rapidocr"  # rapidocr | vlm
    threads: int | None = None  # embedded OCR threads (None: the engine decides)

    def validate(self) -> None:
        super().validate()
        if self.ocr_engine not in ("rapidocr", "vlm"):
            raise PipelineError(f"unknown OCR engine {self.ocr_engine!r}; expected rapidocr or vlm")


@dataclass
class StageOptions(
    CaptionOptions, GenerateOptions, VerifyOptions, BlindOptions, ExpandOptions, OcrOptions
):
    """Every built-in stage's options in one: what the CLI and the Jobs panel fill in."""


_EXTRA_OPTIONS: set[type[RunOptions]] = set()


def register_options(cls: type[RunOptions]) -> None:
    """Options of a stage added later (its keys become known to `from_json`)."""
    _EXTRA_OPTIONS.add(cls)


def known_option_names() -> frozenset[str]:
    names = set(StageOptions.field_names())
    for cls in _EXTRA_OPTIONS:
        names |= cls.field_names()
    return frozenset(names)
