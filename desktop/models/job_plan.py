"""What the Jobs panel runs: a pipeline stage over a scope (some images, a domain, everything).

Model stages become engine jobs (pausable, resumable, costed); `check` and the embedded OCR
engine run directly, as `mmstudio run` does. Planning uses the pipeline's own planners, so a
run from the panel skips exactly what the CLI would skip. The planners know domains but not
image ids, so an image scope plans over the images' domain and keeps the selected items.
No Qt here: the worker calls this on a pool thread.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby

from core.jobs.stage import Stage
from core.pipeline.common import StageOptions
from core.pipeline.run import NEEDS_IMAGES, PipelineError, run_stage
from core.store import pipeline as sp

STAGE_ORDER = ("ocr", "caption", "generate", "check", "verify", "expand")
SCOPE_KINDS = ("images", "domain", "all")

Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """Raised from a direct run's progress callback to stop it between two images."""


@dataclass(frozen=True)
class Scope:
    kind: str  # images | domain | all
    image_ids: tuple[int, ...] = ()
    domain: str | None = None

    def __post_init__(self):
        if self.kind not in SCOPE_KINDS:
            raise PipelineError(f"unknown scope {self.kind!r}")
        if self.kind == "images" and not self.image_ids:
            raise PipelineError("no image is selected: pick one in the grid, or run on a domain")
        if self.kind == "domain" and not self.domain:
            raise PipelineError("choose a domain to run on")

    def label(self) -> str:
        if self.kind == "images":
            n = len(self.image_ids)
            return f"image #{self.image_ids[0]}" if n == 1 else f"{n:,} images"
        return f"domain {self.domain}" if self.kind == "domain" else "everything"

    def to_json(self) -> dict:
        return {"kind": self.kind, "images": len(self.image_ids), "domain": self.domain}


@dataclass
class EngineRun:
    """Items for the job engine; `followup` plans a second job once this one is done."""

    job_stage: str
    stage: Stage
    items: list[tuple[str, dict]]
    skipped: dict
    followup: Callable[[], EngineRun | None] | None = None


@dataclass
class DirectRun:
    """A stage that runs here without the engine (no model calls, nothing to pay)."""

    run: Callable[[Progress], dict]
    skipped: dict = field(default_factory=dict)


# scoping ---------------------------------------------------------------------------------
def _narrow(project, scope: Scope, opts: StageOptions) -> None:
    """Plan over the smallest domain that holds the scope (planners filter by domain)."""
    if scope.kind == "domain":
        opts.domain = scope.domain
    elif scope.kind == "images":
        domains = {img.domain for img in sp.select_images(project.db, ids=scope.image_ids)}
        opts.domain = domains.pop() if len(domains) == 1 and "" not in domains else None
    else:
        opts.domain = None


def _keep_images(items, scope: Scope):
    if scope.kind != "images":
        return items
    keep = set(scope.image_ids)
    return [(k, p) for k, p in items if p.get("image_id") in keep]


def _keep_instructions(project, items, scope: Scope):
    if scope.kind != "images":
        return items
    keep = {r.id for r in sp.select_instructions(project.db, image_ids=scope.image_ids)}
    return [(k, p) for k, p in items if p.get("id") in keep]


def _need_backend(stage: str, backend) -> None:
    if backend is None:
        raise PipelineError(f"stage {stage} calls a model: choose a backend (Tools > Settings)")
    if stage in NEEDS_IMAGES and not backend.supports_images:
        raise PipelineError(f"stage {stage} sends images, but backend {backend.name!r} takes none")


# planners by stage: (project, opts, backend, scope) -> EngineRun | DirectRun -------------------
def _caption(project, opts, backend, scope):
    from core.pipeline import stage_caption as sc

    items, skipped = sc.plan_captions(project, opts)
    items = _keep_images(items, scope)

    def retries() -> EngineRun | None:
        # Captions shorter than the minimum get one more try with a "too short" prompt, as
        # `mmstudio run --stage caption` does.
        ids = [p["image_id"] for _, p in items]
        again = sc.plan_caption_retries(project, opts, ids)
        return EngineRun("caption_retry", sc.CaptionRetryStage(project, opts), again, {})

    return EngineRun("caption", sc.CaptionStage(project, opts), items, skipped, retries)


def _generate(project, opts, backend, scope):
    from core.pipeline import stage_generate as sg

    items, skipped = sg.plan_generation(project, opts)
    return EngineRun(
        "generate", sg.GenerateStage(project, opts), _keep_images(items, scope), skipped
    )


def _verify(project, opts, backend, scope):
    from core.pipeline import stage_verify as sv

    items, skipped = sv.plan_verification(project, opts)
    items = _keep_instructions(project, items, scope)
    return EngineRun("verify", sv.VerifyStage(project, opts), items, skipped)


EXPAND_STAGES = {"rephrase": "RephraseStage", "translate": "TranslateStage"}


def _expand(project, opts, backend, scope):
    from core.pipeline import stage_expand as se

    if opts.mode not in EXPAND_STAGES:
        raise PipelineError(f"expand mode {opts.mode!r}: choose one of {', '.join(EXPAND_STAGES)}")
    items, skipped = se.plan_expansion(project, opts)
    items = _keep_instructions(project, items, scope)
    return EngineRun(
        opts.mode, getattr(se, EXPAND_STAGES[opts.mode])(project, opts), items, skipped
    )


def _ocr(project, opts, backend, scope):
    if opts.ocr_engine == "vlm":
        from core.pipeline import stage_ocr as so

        items, skipped = so.plan_vlm_ocr(project, opts, backend.model)
        return EngineRun("ocr", so.VlmOcrStage(project, opts), _keep_images(items, scope), skipped)
    if scope.kind == "images":
        return DirectRun(lambda progress: _ocr_images(project, opts, scope.image_ids, progress))
    return DirectRun(lambda progress: run_stage(project, "ocr", opts, progress=progress))


def _check(project, opts, backend, scope):
    if scope.kind == "images":
        return DirectRun(lambda progress: _check_images(project, scope.image_ids, progress))
    return DirectRun(lambda progress: run_stage(project, "check", opts, progress=progress))


PLANNERS: dict[str, Callable] = {
    "ocr": _ocr,
    "caption": _caption,
    "generate": _generate,
    "check": _check,
    "verify": _verify,
    "expand": _expand,
}


def uses_model(stage: str, opts: StageOptions) -> bool:
    """Whether the stage calls a backend with these options (the panel asks before planning)."""
    return stage not in ("check", "ocr") or (stage == "ocr" and opts.ocr_engine == "vlm")


def plan(project, stage: str, opts: StageOptions, scope: Scope, backend=None):
    """The run for `stage` over `scope`: an EngineRun (possibly with no items) or a DirectRun."""
    if stage not in PLANNERS:
        raise PipelineError(f"unknown stage {stage!r}; expected one of {', '.join(PLANNERS)}")
    if uses_model(stage, opts):
        _need_backend(stage, backend)
        opts.backend_kind = backend.kind
    _narrow(project, scope, opts)
    return PLANNERS[stage](project, opts, backend, scope)


# direct runs over chosen images (the core versions take a domain) ------------------------------
def _check_images(project, image_ids, progress: Progress) -> dict:
    from core.pipeline.checks import run_checks
    from core.pipeline.items import Item

    rows = [
        r
        for r in sp.select_instructions(project.db, image_ids=list(image_ids))
        if r.status != "rejected"
    ]
    groups = [list(g) for _, g in groupby(rows, key=lambda r: r.image_id)]
    seen: Counter = Counter()
    results = []
    for n, group in enumerate(groups, start=1):
        items = [Item(r.itype, r.lang, r.question, r.answer, r.options) for r in group]
        for row, flags in zip(group, run_checks(items), strict=True):
            results.append((row.id, [f.name for f in flags], [f.message for f in flags]))
            seen.update(f.name for f in flags)
        progress(n, len(groups))
    sp.save_check_results(project.db, results)
    flagged = sum(1 for _, names, _ in results if names)
    return {"stage": "check", "checked": len(results), "images": len(groups),
            "passed": len(results) - flagged, "flagged": flagged, "flags": dict(seen)}  # fmt: skip


def _ocr_images(project, opts, image_ids, progress: Progress) -> dict:
    from core.pipeline.ocr import LOCAL_ENGINES, lines_text

    engine = LOCAL_ENGINES[opts.ocr_engine]
    done = set() if opts.force else sp.images_with_ocr(project.db, opts.ocr_engine)
    chosen = sp.select_images(project.db, ids=list(image_ids))
    todo = [img for img in chosen if img.id not in done]
    failed, with_text = [], 0
    for n, img in enumerate(todo, start=1):
        try:
            lines = engine(project.resolve_media(img.storage, img.path), threads=opts.threads)
        except OSError as exc:  # a moved or unreadable file is reported, the rest goes on
            failed.append({"image_id": img.id, "reason": f"{type(exc).__name__}: {exc}"})
            continue
        text = lines_text(lines)
        sp.save_ocr(project.db, img.id, opts.ocr_engine, [ln.to_json() for ln in lines], text)
        with_text += bool(lines)
        progress(n, len(todo))
    return {"stage": "ocr", "engine": opts.ocr_engine, "images": len(todo),
            "skipped": len(chosen) - len(todo), "with_text": with_text, "failed": failed}  # fmt: skip
