"""Find and replace over questions, options, answers and captions: fix once, apply to all.

`plan()` lists every value the replace changes in a selection (an ImageQuery, so "the current
filter", or image ids), each new value checked by the rules a single edit follows; a change
those rules refuse is listed with the reason and left out. `apply()` writes exactly the
planned changes in one transaction, or refuses if a value changed since the preview, and
returns the `Change`s: undoing them (core.store.review.apply_changes of their inverse) is one
step for the whole batch. Captions get a new version each, so an undo makes the old one
current again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from core.store import review
from core.store.backup import snapshot
from core.store.browse import ImageQuery
from core.store.bulk import Selection
from core.store.replace import FIELDS, Hit, ReplaceError, find_hits, new_caption_versions
from core.store.review_change import Change, EditConflict, ReviewError, default_author
from core.store.review_rules import validate_value

__all__ = ["FIELDS", "Edit", "ReplaceError", "ReplacePlan", "apply", "plan"]


@dataclass(frozen=True)
class Edit:
    hit: Hit
    new: object  # the stored form (a judgement answer "Yes" becomes "yes")
    problem: str | None = None  # why this change is left out

    def to_json(self) -> dict:
        h = self.hit
        return {"table": h.table, "id": h.row_id, "image_id": h.image_id, "field": h.field,
                "old": h.old, "new": self.new, "problem": self.problem}  # fmt: skip


@dataclass
class ReplacePlan:
    find: str
    replace: str
    regex: bool
    match_case: bool
    fields: tuple[str, ...]
    edits: list[Edit] = field(default_factory=list)

    @cached_property
    def valid(self) -> list[Edit]:
        return [e for e in self.edits if e.problem is None]

    @cached_property
    def refused(self) -> list[Edit]:
        return [e for e in self.edits if e.problem is not None]

    def images(self) -> set[int]:
        return {e.hit.image_id for e in self.valid}

    def to_json(self) -> dict:
        return {
            "find": self.find,
            "replace": self.replace,
            "regex": self.regex,
            "match_case": self.match_case,
            "fields": list(self.fields),
            "changes": len(self.valid),
            "refused": len(self.refused),
            "images": len(self.images()),
            "edits": [e.to_json() for e in self.edits],
        }


def _checked(hit: Hit) -> Edit | None:
    """The edit with its stored value, None when the rules make it no change at all."""
    if hit.table == "captions":
        text = (hit.new or "").strip()
        if not text:
            return Edit(hit, hit.new, "the caption would be empty")
        return None if text == hit.old else Edit(hit, text)
    try:
        value = validate_value(hit.field, hit.new, hit.itype)
    except ReviewError as exc:
        return Edit(hit, hit.new, str(exc))
    return None if value == hit.old else Edit(hit, value)


def plan(
    db,
    selection: Selection,
    find: str,
    replace: str,
    *,
    regex: bool = False,
    match_case: bool = True,
    fields: tuple[str, ...] | list[str] = FIELDS,
    itype: str | None = None,
    item_status: str | None = None,
) -> ReplacePlan:
    """Every change of replacing `find` by `replace` in `fields` of the selection's images.
    `itype` / `item_status` narrow the instructions (an ImageQuery brings its own)."""
    fields = tuple(dict.fromkeys(fields)) or FIELDS
    if isinstance(selection, ImageQuery):
        itype, item_status = itype or selection.itype, item_status or selection.item_status
    narrow = {"itype": itype, "item_status": item_status}
    hits = find_hits(
        db, selection, fields, find, replace, regex=regex, match_case=match_case, **narrow
    )
    edits = [e for e in map(_checked, hits) if e is not None]
    return ReplacePlan(find, replace, regex, match_case, fields, edits)


def apply(project_or_db, plan: ReplacePlan, author: str | None = None, backup: bool = True):
    """Write the plan's valid changes, all or nothing; returns the Changes (undo: their
    inverse). A backup is taken first when given a project (a bulk edit, docs/CONTRACTS.md)."""
    db = getattr(project_or_db, "db", project_or_db)
    edits = plan.valid
    if not edits:
        return []
    if backup:
        snapshot(project_or_db, "before-replace")
    author = author or default_author()
    by_field: dict[str, list[Change]] = {}
    captions = []
    for e in edits:
        h = e.hit
        if h.table == "captions":
            captions.append((h.row_id, h.old, e.new))
        else:
            by_field.setdefault(h.field, []).append(
                Change("instructions", h.row_id, h.field, h.old, e.new)
            )
    changes = [c for f in FIELDS for c in by_field.get(f, [])]
    with db.tx() as cur:
        if captions:
            changes += [
                Change("images", image, "caption", old, new)
                for image, old, new in new_caption_versions(cur, captions)
            ]
        try:
            review.apply_in(cur, changes, author)
        except EditConflict as exc:
            raise ReplaceError(f"values changed since the preview; preview again ({exc})") from None
    return changes
