"""The stage registry: what each pipeline stage is, declared once, used by the CLI and the GUI.

A stage is a `StageSpec` subclass in its own module (core/pipeline/stage_*.py) registered with
`register`: its name, its typed options, whether it needs a model (and sends images), how it
plans a selection into an `EngineRun` (items for the job engine, possibly with a follow-up
run once it is done) or a `DirectRun` (work without the engine: no model, nothing to pay), and
the engine stages its jobs run as (so a job resumes from what the database says). `plan()`
is the one planner both front-ends call; `prepare_resume()` is the one way back into a job.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from core.changes import Changes
from core.jobs.stage import Stage, register_stage
from core.pipeline.options import (
    PipelineError,
    RunOptions,
    register_options,
    unregister_options,
)
from core.pipeline.results import EngineResult, StageResult
from core.pipeline.selection import check_items

# The built-in stages in pipeline order; each module registers its spec when imported.
BUILTIN_MODULES = (
    "core.pipeline.stage_ocr",
    "core.pipeline.stage_caption",
    "core.pipeline.stage_generate",
    "core.pipeline.stage_check",
    "core.pipeline.stage_verify",
    "core.pipeline.stage_blind",
    "core.pipeline.stage_expand",
)
Progress = Callable[[int, int], None]


@dataclass
class EngineRun:
    """Items for the job engine under `job_stage`; `followup` plans one more run once this
    one is done (its summary goes under `followup_key`)."""

    job_stage: str
    stage: Stage
    items: list[tuple[str, dict]]
    skipped: dict
    followup: Callable[[], EngineRun | None] | None = None
    followup_key: str = "followup"


@dataclass
class DirectRun:
    """Work that runs here without the engine; `run(progress)` returns its result (a
    core.pipeline.results.StageResult) and `changes()`, asked once it has run, the rows it
    touched (core.changes.Changes)."""

    run: Callable[[Progress | None], StageResult]
    skipped: dict = field(default_factory=dict)
    changes: Callable[[], Changes] = Changes


class StageSpec:
    """One pipeline stage. Subclass, set the class attributes, override `plan`."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # English, for lists; the GUI translates it
    options: ClassVar[type[RunOptions]] = RunOptions
    # What a run through the job engine returns (its `describe` fields are the subclass's);
    # a direct run returns its own result from DirectRun.run.
    result: ClassVar[type[EngineResult]] = EngineResult
    sends_images: ClassVar[bool] = False  # its requests carry the image
    # job-stage name -> factory(project, options): what the engine runs, and what a resume
    # finds by the name stored with the job.
    engine_stages: ClassVar[dict[str, Callable[..., Stage]]] = {}

    def needs_model(self, opts) -> bool:
        return True

    def needs_images(self, opts) -> bool:
        """Whether its requests with these options carry the image (default: sends_images)."""
        return self.sends_images

    def plan(self, project, opts, backend) -> EngineRun | DirectRun:
        raise NotImplementedError

    def describe(self, opts) -> dict:
        """Values of this stage's own result fields (`result`) that follow from `opts`."""
        return {}


_SPECS: dict[str, StageSpec] = {}
_loaded = False


def register(cls: type[StageSpec]) -> type[StageSpec]:
    """Add a stage (a class decorator); a name already taken, by the stage or by one of its
    engine stages, is refused."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in _SPECS:
        raise ValueError(f"stage {cls.name!r} is already registered")
    for job_stage, factory in cls.engine_stages.items():
        register_stage(job_stage, factory)
    register_options(cls.options)
    _SPECS[cls.name] = cls()
    return cls


def unregister(name: str) -> None:
    """Remove a stage added at run time (tests, plug-ins that undo themselves)."""
    from core.jobs.stage import unregister_stage

    spec = _SPECS.pop(name, None)
    for job_stage in getattr(spec, "engine_stages", {}):
        unregister_stage(job_stage)
    if spec is not None and all(s.options is not spec.options for s in _SPECS.values()):
        unregister_options(spec.options)


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)


def names() -> tuple[str, ...]:
    _load_builtins()
    return tuple(_SPECS)


def get(name: str) -> StageSpec:
    _load_builtins()
    try:
        return _SPECS[name]
    except KeyError:
        raise PipelineError(
            f"unknown stage {name!r}; expected one of {', '.join(_SPECS)}"
        ) from None


def next_stage(project) -> str | None:
    """The stage the project needs next: the first of its next steps (core.next_steps, what
    the start page lists too) that is a stage; images without captions: caption."""
    from core.next_steps import next_steps, project_state

    known = names()
    return next((step for step, _n in next_steps(project_state(project)) if step in known), None)


def spec_of_job_stage(job_stage: str) -> StageSpec:
    _load_builtins()
    for spec in _SPECS.values():
        if job_stage in spec.engine_stages:
            return spec
    raise PipelineError(
        f"no stage named {job_stage!r} is registered "
        f"(known: {', '.join(sorted(j for s in _SPECS.values() for j in s.engine_stages))})"
    )


# planning and resuming, for the CLI and the GUI alike -------------------------------------
def prepare(project, name: str, opts) -> RunOptions:
    """`opts` (a StageOptions, another stage's options or a dict) as stage `name`'s own,
    checked: known stage, valid values, a selection naming images of this project."""
    spec = get(name)
    typed = spec.options.take(opts)
    typed.validate()
    _check_selection(project, typed)
    check_items(project.db, typed)
    return typed


def uses_model(name: str, opts) -> bool:
    spec = get(name)
    return spec.needs_model(spec.options.take(opts))


NO_IMAGES = "stage {stage} sends images, but backend {name!r} takes none"


def check_backend(name: str, backend, missing: str, no_images: str = NO_IMAGES, opts=None) -> None:
    """A model stage has a backend that can take what it sends. `missing` and `no_images`
    are the front-end's own words ({stage}, {name} filled in)."""
    if backend is None:
        raise PipelineError(missing.format(stage=name))
    spec = get(name)
    sends = spec.needs_images(opts) if opts is not None else spec.sends_images
    if sends and not backend.capabilities.images:
        raise PipelineError(no_images.format(stage=name, name=backend.name))


def plan(project, name: str, opts: RunOptions, backend=None) -> EngineRun | DirectRun:
    """The run for stage `name` with its `opts` from prepare() over the selection they name.
    A model stage's engine stages learn the backend's capabilities."""
    spec = get(name)
    run = spec.plan(project, opts, backend if spec.needs_model(opts) else None)
    if isinstance(run, EngineRun) and backend is not None:
        _bind(run, backend)
    return run


def _bind(run: EngineRun, backend) -> None:
    if hasattr(run.stage, "use_backend"):
        run.stage.use_backend(backend)
    if run.followup is not None:
        first = run.followup

        def followup():
            nxt = first()
            if nxt is not None:
                _bind(nxt, backend)
            return nxt

        run.followup = followup


def _check_selection(project, opts) -> None:
    """A run over chosen images names images of this project (a typo is not "nothing to do")."""
    if opts.image_ids is None:
        return
    if not opts.image_ids:
        raise PipelineError("no image chosen: pass image ids, or leave the selection out")
    from core.store.pipeline import missing_image_ids

    missing = missing_image_ids(project.db, opts.image_ids)
    if missing:
        shown = ", ".join(str(i) for i in missing[:10]) + (", …" if len(missing) > 10 else "")
        raise PipelineError(f"no image with id {shown} in this project")


def prepare_resume(project, job_id: int, backend) -> tuple[dict, Stage]:
    """(the job row, its engine stage ready to run) for a job another run left unfinished,
    with the options it was created with."""
    from core.store import jobs as jobs_store

    job = jobs_store.get_job(project.db, job_id)
    if job is None:
        raise PipelineError(f"no job {job_id}")
    spec = spec_of_job_stage(job["stage"])
    opts = spec.options.from_json(job["params"])
    stage = spec.engine_stages[job["stage"]](project, opts)
    if hasattr(stage, "use_backend"):
        stage.use_backend(backend)
    return job, stage
