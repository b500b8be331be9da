"""What the Jobs panel runs: a pipeline stage over a scope (some images, a domain, everything).

Model stages become engine jobs (pausable, resumable, costed); `check` and the embedded OCR
engine run directly, as `mmstudio run` does. Planning uses the pipeline's own planners, so a
run from the panel skips exactly what the CLI would skip (`mmstudio run --images` for a
selection). No Qt here: the worker calls this on a pool thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.jobs.stage import Stage
from core.pipeline.common import StageOptions
from core.pipeline.run import NEEDS_IMAGES, PipelineError, run_stage
from desktop.strings import tr

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
            raise PipelineError(tr("unknown scope {kind!r}", kind=self.kind))
        if self.kind == "images" and not self.image_ids:
            raise PipelineError(
                tr("no image is selected: pick one in the grid, or run on a domain")
            )
        if self.kind == "domain" and not self.domain:
            raise PipelineError(tr("choose a domain to run on"))

    def label(self) -> str:
        if self.kind == "images":
            n = len(self.image_ids)
            if n == 1:
                return tr("image #{id}", id=self.image_ids[0])
            return tr("{n:,} images", n=n)
        if self.kind == "domain":
            return tr("domain {domain}", domain=self.domain)
        return tr("everything")

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
def _narrow(scope: Scope, opts: StageOptions) -> None:
    """The planners' own filters: a domain, chosen image ids, or nothing."""
    opts.domain = scope.domain if scope.kind == "domain" else None
    opts.image_ids = list(scope.image_ids) if scope.kind == "images" else None


def _need_backend(stage: str, backend) -> None:
    if backend is None:
        raise PipelineError(
            tr("stage {stage} calls a model: choose a backend (Tools > Settings)", stage=stage)
        )
    if stage in NEEDS_IMAGES and not backend.supports_images:
        raise PipelineError(
            tr(
                "stage {stage} sends images, but backend {name!r} takes none",
                stage=stage,
                name=backend.name,
            )
        )


# planners by stage: (project, opts, backend) -> EngineRun | DirectRun -------------------------
def _caption(project, opts, backend):
    from core.pipeline import stage_caption as sc

    items, skipped = sc.plan_captions(project, opts)

    def retries() -> EngineRun | None:
        # Captions shorter than the minimum get one more try with a "too short" prompt, as
        # `mmstudio run --stage caption` does.
        ids = [p["image_id"] for _, p in items]
        again = sc.plan_caption_retries(project, opts, ids)
        return EngineRun("caption_retry", sc.CaptionRetryStage(project, opts), again, {})

    return EngineRun("caption", sc.CaptionStage(project, opts), items, skipped, retries)


def _generate(project, opts, backend):
    from core.pipeline import stage_generate as sg

    items, skipped = sg.plan_generation(project, opts)
    return EngineRun("generate", sg.GenerateStage(project, opts), items, skipped)


def _verify(project, opts, backend):
    from core.pipeline import stage_verify as sv

    items, skipped = sv.plan_verification(project, opts)
    return EngineRun("verify", sv.VerifyStage(project, opts), items, skipped)


EXPAND_STAGES = {"rephrase": "RephraseStage", "translate": "TranslateStage"}


def _expand(project, opts, backend):
    from core.pipeline import stage_expand as se

    if opts.mode not in EXPAND_STAGES:
        raise PipelineError(
            tr(
                "expand mode {mode!r}: choose one of {modes}",
                mode=opts.mode,
                modes=", ".join(EXPAND_STAGES),
            )
        )
    items, skipped = se.plan_expansion(project, opts)
    return EngineRun(
        opts.mode, getattr(se, EXPAND_STAGES[opts.mode])(project, opts), items, skipped
    )


def _ocr(project, opts, backend):
    if opts.ocr_engine == "vlm":
        from core.pipeline import stage_ocr as so

        items, skipped = so.plan_vlm_ocr(project, opts, backend.model)
        return EngineRun("ocr", so.VlmOcrStage(project, opts), items, skipped)
    return DirectRun(lambda progress: run_stage(project, "ocr", opts, progress=progress))


def _check(project, opts, backend):
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
        raise PipelineError(
            tr(
                "unknown stage {stage!r}; expected one of {stages}",
                stage=stage,
                stages=", ".join(PLANNERS),
            )
        )
    if uses_model(stage, opts):
        _need_backend(stage, backend)
        opts.backend_kind = backend.kind
    _narrow(scope, opts)
    return PLANNERS[stage](project, opts, backend)
