"""What the Jobs panel runs: a pipeline stage over a scope (some images, a domain, everything).

The panel owns only the scope; what a stage is and how it plans is the core stage registry's
(core/pipeline/stages.py), so a run from the panel skips exactly what the CLI would skip
(`mmstudio run --images` for a selection). Model stages become engine jobs (pausable,
resumable, costed); direct stages (check, embedded OCR, expand import) run here.
No Qt here: the worker calls this on a pool thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.pipeline import stages
from core.pipeline.options import PipelineError
from core.pipeline.stages import DirectRun, EngineRun
from desktop.strings import tr

__all__ = ["Cancelled", "DirectOutcome", "DirectRun", "EngineRun", "Scope", "estimate", "plan",
           "stage_order", "uses_model"]  # fmt: skip

SCOPE_KINDS = ("images", "domain", "all")

Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """Raised from a direct run's progress callback to stop it between two images."""


@dataclass(frozen=True)
class DirectOutcome:
    """How a direct run ended: done (with its core.pipeline.results.StageResult), cancelled,
    or failed (with the error's message)."""

    stage: str
    status: str  # done | cancelled | failed
    result: object = None
    error: str | None = None


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


# scoping ---------------------------------------------------------------------------------
def _narrow(scope: Scope, opts) -> None:
    """The planners' own filters: a domain, chosen image ids, or nothing."""
    opts.domain = scope.domain if scope.kind == "domain" else None
    opts.image_ids = list(scope.image_ids) if scope.kind == "images" else None


def stage_order() -> tuple[str, ...]:
    """The stages the panel offers, in pipeline order (the core registry's)."""
    return stages.names()


def uses_model(stage: str, opts) -> bool:
    """Whether the stage calls a backend with these options (the panel asks before planning)."""
    return stages.uses_model(stage, opts)


def estimate(project, stage: str, opts, scope: Scope, backend=None):
    """What a run of `stage` over `scope` would send and cost: core's dry run
    (core.pipeline.run.dry_run, a DryRunResult), without the prompts."""
    from core.pipeline.run import dry_run

    opts = type(opts).from_json(opts.to_json())  # the caller's options stay as they are
    _narrow(scope, opts)
    return dry_run(project, stage, opts, backend, show=0)


def plan(project, stage: str, opts, scope: Scope, backend=None):
    """The run for `stage` over `scope`: an EngineRun (possibly with no items) or a DirectRun,
    planned by the core stage registry exactly as `mmstudio run --images/--domain` plans it.
    Returns (the stage's own options, as stored with its job; the run)."""
    spec = stages.get(stage)
    _narrow(scope, opts)
    typed = stages.prepare(project, stage, opts)
    if spec.needs_model(typed):
        stages.check_backend(
            stage,
            backend,
            tr("stage {stage} calls a model: choose a backend (Tools > Settings)"),
            tr("stage {stage} sends images, but backend {name!r} takes none"),
            opts=typed,
        )
    return typed, stages.plan(project, stage, typed, backend)
