"""What a run changed, so a front-end can refresh only those rows.

Jobs (`core.store.changes.job_changes`), direct stage runs (`DirectRun.changes`) and imports
(`ImportSummary.changes()`, `import_data`'s summary) report the image and instruction ids they
added or edited. The GUI re-reads those images' rows instead of re-running its whole query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    images: frozenset[int] = frozenset()
    instructions: frozenset[int] = frozenset()
    added_images: bool = False  # new image rows exist: a list of images must re-run its query

    @classmethod
    def of(
        cls, images: Iterable[int] = (), instructions: Iterable[int] = (), added: bool = False
    ) -> Changes:
        return cls(frozenset(map(int, images)), frozenset(map(int, instructions)), added)

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.images | other.images,
            self.instructions | other.instructions,
            self.added_images or other.added_images,
        )

    def __bool__(self) -> bool:
        return bool(self.images or self.instructions)

    def to_json(self) -> dict:
        return {"images": sorted(self.images), "instructions": sorted(self.instructions),
                "added_images": self.added_images}  # fmt: skip
