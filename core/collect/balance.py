"""Balance: per domain, how many images, captions and instructions of each type there are
against the target the user set (the paper builds 24 domains x 4 instruction types), the gap,
and what would fill it: collecting images, captioning, or generating the under-filled types.

Rejected images and instructions do not count. The target lives in the project's meta table,
so it travels with the project file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from core.collect.errors import CollectError
from core.pipeline.items import ITYPES
from core.project import Project
from core.store import curate as store

TARGET_KEY = "balance_target"
FILL_ACTIONS = ("collect", "caption", "generate")


@dataclass
class Target:
    images: int = 100
    captions: int = 100
    instructions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ITYPES, 100))

    def __post_init__(self):
        unknown = set(self.instructions) - set(ITYPES)
        if unknown:
            raise CollectError(f"unknown instruction type(s): {', '.join(sorted(unknown))}")
        for name, value in [("images", self.images), ("captions", self.captions),
                            *self.instructions.items()]:  # fmt: skip
            if not isinstance(value, int) or value < 0:
                raise CollectError(f"the target for {name} must be a whole number >= 0")
        self.instructions = {t: int(self.instructions.get(t, 0)) for t in ITYPES}

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class DomainBalance:
    domain: str
    images: int
    captions: int
    instructions: dict[str, int]
    target: Target

    @property
    def image_gap(self) -> int:
        return max(0, self.target.images - self.images)

    @property
    def caption_gap(self) -> int:
        # Captions can only be written for images that exist.
        return max(0, min(self.target.captions, self.images) - self.captions)

    def type_gaps(self) -> dict[str, int]:
        return {t: max(0, self.target.instructions[t] - self.instructions.get(t, 0))
                for t in ITYPES}  # fmt: skip

    def under_filled(self) -> list[str]:
        return [t for t, gap in self.type_gaps().items() if gap > 0]

    def fill_action(self) -> str | None:
        """What to do first: images come before captions, captions before instructions."""
        if self.image_gap:
            return "collect"
        if self.caption_gap:
            return "caption"
        if self.under_filled() and self.captions:
            return "generate"
        return None

    def to_json(self) -> dict:
        return {
            "domain": self.domain,
            "images": self.images,
            "captions": self.captions,
            "instructions": dict(self.instructions),
            "gaps": {
                "images": self.image_gap,
                "captions": self.caption_gap,
                "instructions": self.type_gaps(),
            },  # fmt: skip
            "fill": self.fill_action(),
        }


def get_target(project: Project) -> Target:
    raw = store.read_meta(project.db, TARGET_KEY)
    if not raw:
        return Target()
    try:
        return Target(**json.loads(raw))
    except (ValueError, TypeError, CollectError):
        return Target()  # an unreadable stored target falls back to the default, not a crash


def set_target(project: Project, target: Target) -> Target:
    store.write_meta(project.db, TARGET_KEY, json.dumps(target.to_json()))
    return target


def balance(project: Project, target: Target | None = None) -> list[DomainBalance]:
    """Every domain (in sidebar order) against `target` (default: the stored one)."""
    target = target or get_target(project)
    counts = store.balance_counts(project.db)
    return [
        DomainBalance(
            name,
            c["images"],
            c["captions"],
            {t: c["instructions"].get(t, 0) for t in ITYPES},
            target,
        )  # fmt: skip
        for name, c in counts.items()
    ]
