"""What every model stage shares: its options, the image and domain it works on, and the
bookkeeping that keeps a template's hash with each item until the result is stored."""

from __future__ import annotations

import threading

from core.backends.base import Capabilities
from core.jobs.stage import Stage
from core.pipeline.options import (  # noqa: F401  (re-exported: the stages' one import)
    DEFAULT_CAPTION_MIN,
    DEFAULT_LONG_MIN_WORDS,
    StageOptions,
)
from core.pipeline.prompts import DomainInfo, Prior
from core.store import ocr as ocr_store
from core.store import pipeline as store
from core.store.domains import get_domain


class ModelStage(Stage):
    """A stage over project rows. Keeps per-item provenance from build() to store()."""

    def __init__(self, project, options):
        self.project = project
        self.db = project.db
        self.opts = options
        self.resample = getattr(options, "resample", 0) or 0  # core.jobs.stage.Stage.resample
        self.capabilities = Capabilities()  # what the backend enforces; see use_backend
        self._meta: dict[str, dict] = {}
        self._lock = threading.Lock()

    def use_backend(self, backend) -> None:
        """Learn what the backend can enforce on its output (grammar, JSON schema) before
        build() runs; the stage asks capabilities, never the backend's kind."""
        self.capabilities = backend.capabilities

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
        return Prior(ocr_text=ocr_store.ocr_text(self.db, img.id), tags=img.tags, title=img.title)
