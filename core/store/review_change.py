"""What one edit is: a `Change` of one field of one row, and the errors an edit raises.

Every review module and every caller that records, undoes or replays edits shares these
types; they live apart from the rules (core.store.review_rules), the writer
(core.store.review_apply) and the edit functions (core.store.review) so that each of those can
import them without importing the others.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from core.errors import StudioError


class ReviewError(StudioError):
    pass


class EditConflict(ReviewError):
    pass


def default_author() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers and services
        return "user"


@dataclass(frozen=True)
class Change:
    table: str
    row_id: int
    field: str
    old: Any
    new: Any

    def inverse(self) -> Change:
        return Change(self.table, self.row_id, self.field, self.new, self.old)
