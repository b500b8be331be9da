"""What a project needs next, derived from its state: no model to call, no images, images
without captions, captions without instructions, unchecked or unreviewed items, nothing
exported, nothing trained. The desktop's start page and anyone else (a CLI hint) read the same
list; each step names the stage or place that does it.

A registry of rules in order: a new step is one more entry, not another branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.store.progress import progress_counts


@dataclass(frozen=True)
class ProjectState:
    backends: int  # model backends configured for this user (core.backends.settings)
    images: int
    captioned_images: int
    captioned_without_instructions: int
    instructions: int
    unchecked: int
    to_review: int
    accepted: int
    exports: int
    runs: int


@dataclass(frozen=True)
class Step:
    name: str
    applies: Callable[[ProjectState], bool]
    count: Callable[[ProjectState], int]  # how many things the step is about (0: n/a)


STEPS: list[Step] = []


def register_step(step: Step) -> Step:
    if any(s.name == step.name for s in STEPS):
        raise ValueError(f"next step {step.name!r} is registered twice")
    STEPS.append(step)
    return step


register_step(Step("add_backend", lambda s: s.backends == 0, lambda s: 0))
register_step(Step("import", lambda s: s.images == 0, lambda s: 0))
register_step(
    Step(
        "caption",
        lambda s: s.captioned_images < s.images,
        lambda s: s.images - s.captioned_images,
    )
)
register_step(
    Step(
        "generate",
        lambda s: s.captioned_without_instructions > 0,
        lambda s: s.captioned_without_instructions,
    )
)
register_step(Step("check", lambda s: s.unchecked > 0, lambda s: s.unchecked))
register_step(Step("review", lambda s: s.to_review > 0, lambda s: s.to_review))
register_step(Step("export", lambda s: s.accepted > 0 and s.exports == 0, lambda s: s.accepted))
register_step(Step("train", lambda s: s.exports > 0 and s.runs == 0, lambda s: s.exports))


def _folders(path) -> int:
    if not path.is_dir():
        return 0
    return sum(1 for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def project_state(project, backends: int | None = None) -> ProjectState:
    """The state of `project`; `backends` defaults to the user's configured backends."""
    if backends is None:
        from core.backends.settings import load_backends
        from core.errors import StudioError

        try:
            backends = len(load_backends())
        except StudioError:
            backends = 0  # an unreadable backends file: adding one is still the next step
    counts = progress_counts(project.db)
    return ProjectState(
        backends=backends,
        exports=_folders(project.exports_dir),
        runs=_folders(project.runs_dir),
        **counts,
    )


def next_steps(state: ProjectState) -> list[tuple[str, int]]:
    """(step name, how many things it concerns) for every step that applies, in order."""
    return [(s.name, s.count(state)) for s in STEPS if s.applies(state)]
