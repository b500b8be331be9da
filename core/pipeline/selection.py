"""Which instructions an item-by-item stage (both verify modes, blind) works on: the images
chosen (`image_ids`, `domain`, `limit`) and, within them, chosen instructions
(`instruction_ids`) and statuses (`statuses`). Named items are taken whatever their status
unless statuses are given too: re-verifying one item a person already accepted is a
reviewer's choice, and their decision is never moved by it."""

from __future__ import annotations

from core.pipeline.options import PipelineError
from core.vocab import ITEM_STATUSES, MACHINE_STATUSES


def item_statuses(opts) -> list[str] | None:
    """The statuses a plan selects: the given ones; every status for named items; else the
    undecided ones."""
    if opts.statuses is not None:
        return list(opts.statuses)
    return None if getattr(opts, "instruction_ids", None) is not None else list(MACHINE_STATUSES)


def check_items(db, opts) -> None:
    """Chosen instructions name ones of this project and statuses are known ones, before any
    request is planned (a typo is not "nothing to do")."""
    unknown = sorted(set(getattr(opts, "statuses", None) or ()) - set(ITEM_STATUSES))
    if unknown:
        raise PipelineError(
            f"unknown status(es) {', '.join(unknown)}; expected {', '.join(ITEM_STATUSES)}"
        )
    ids = getattr(opts, "instruction_ids", None)
    if ids is None:
        return
    if not ids:
        raise PipelineError("no instruction chosen: pass instruction ids, or leave them out")
    from core.store.pipeline import missing_instruction_ids

    missing = missing_instruction_ids(db, ids)
    if missing:
        shown = ", ".join(str(i) for i in missing[:10]) + (", …" if len(missing) > 10 else "")
        raise PipelineError(f"no instruction with id {shown} in this project")
