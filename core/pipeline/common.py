"""What every model stage shares: its options, the image and domain it works on, and the
bookkeeping that keeps a template's hash with each item until the result is stored."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from core import itypes as itype_registry
from core.jobs.stage import Stage
from core.pipeline.items import default_counts
from core.pipeline.prompts import DomainInfo, Prior
from core.store import pipeline as store
from core.store.domains import get_domain

# Minimum caption length: words for English, characters for Chinese (see textutil).
DEFAULT_CAPTION_MIN = {"en": 60, "zh": 100}
DEFAULT_LONG_MIN_WORDS = {"en": 60, "zh": 100}


@dataclass
class StageOptions:
    """Options of a run; stored as the job's params so a resumed job behaves the same."""

    lang: str = "en"
    domain: str | None = None
    image_ids: list[int] | None = None  # only these images (None: no such filter)
    limit: int | None = None
    itypes: list[str] = field(default_factory=lambda: list(itype_registry.names()))
    counts: dict = field(default_factory=default_counts)
    seeds_k: int = 3
    fmt: str = "tagged"  # tagged | json
    attach_image: bool = False  # generate from the caption only, as the paper does
    multi_round: bool = True  # long QAs of one image become one conversation
    caption_min: int | None = None
    temperature: float = 0.7
    sample_seed: int = 0
    force: bool = False  # redo items that already have a result
    ocr_engine: str = "rapidocr"  # rapidocr | vlm
    mode: str = "rephrase"  # expand: rephrase | translate | import
    source: str | None = None  # expand import: a LLaVA / ShareGPT file or export folder
    source_format: str | None = None
    statuses: list[str] | None = None  # verify / expand: which instructions
    backend_kind: str = "openai"
    similarity: float = 0.5  # verify: short answers agree at or above this
    against: str = "image"  # verify: image (the VLM sees the image) | caption (a text model)
    blind_trials: int = 3  # blind: times each item is asked
    blind_threshold: float = 1.0  # blind: flag at or above this score
    threads: int | None = None  # embedded OCR threads (None: the engine decides)
    budget_usd: float | None = None  # a job stops cleanly once it has spent this
    max_chars: dict | None = None  # constrained output: longest question / option / answer

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict | None) -> StageOptions:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (obj or {}).items() if k in known})

    def min_caption(self, lang: str) -> int:
        return self.caption_min or DEFAULT_CAPTION_MIN[lang]


class ModelStage(Stage):
    """A stage over project rows. Keeps per-item provenance from build() to store()."""

    def __init__(self, project, options: StageOptions):
        self.project = project
        self.db = project.db
        self.opts = options
        self._meta: dict[str, dict] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, **meta) -> None:
        with self._lock:
            self._meta[key] = meta

    def recall(self, key: str) -> dict:
        with self._lock:
            return self._meta.get(key, {})

    # rows --------------------------------------------------------------------------------
    def image(self, image_id: int):
        found = store.select_images(self.db, ids=[image_id])
        return found[0] if found else None

    def image_path(self, img):
        return self.project.resolve_media(img.storage, img.path)

    def domain(self, name: str) -> DomainInfo:
        row = get_domain(self.db, name) if name else None
        if row is None:
            return DomainInfo(name or "", name or "general images", "")
        return DomainInfo(row.name, row.title, row.description)

    def prior(self, img) -> Prior:
        return Prior(ocr_text=store.ocr_text(self.db, img.id), tags=img.tags, title=img.title)
