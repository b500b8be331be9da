"""Human edits: each is validated, applied and logged in `revisions` in one transaction.

Every edit function returns the list of `Change`s it made. Applying their inverses (in reverse
order) undoes the edit; `apply_changes` does both undo and redo and refuses, changing nothing,
when a value is no longer what the change expects (someone or some job changed it since).
The rules live in core.store.review_rules, the writer in core.store.review_apply and the
`Change` type in core.store.review_change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.store.db import Database
from core.store.review_apply import Cursor, apply, read_field
from core.store.review_change import Change, ReviewError, default_author
from core.store.review_rules import EDITABLE_INSTRUCTION_FIELDS, VALIDATORS
from core.vocab import DECISIONS, IMAGE_STATUSES
from core.vocab import ITEM_STATUSES as INSTRUCTION_STATUSES
from core.vocab import MACHINE_STATUSES as UNDECIDED


def inverse(changes: Sequence[Change]) -> list[Change]:
    return [c.inverse() for c in reversed(changes)]


def apply_in(cur: Cursor, changes: Sequence[Change], author: str | None = None) -> None:
    """Apply `changes` inside the caller's transaction (bulk edits in core.store.bulk)."""
    apply(cur, changes, author or default_author())


def apply_changes(db: Database, changes: Sequence[Change], author: str | None = None) -> None:
    """Apply `changes` atomically (undo passes `inverse(changes)`), logging each one."""
    with db.tx() as cur:
        apply(cur, changes, author or default_author())


def _instruction(cur: Cursor, instruction_id: int) -> dict:
    row = cur.execute(
        "SELECT itype, lang, question, options, answer, status FROM instructions WHERE id = ?",
        [instruction_id],
    ).fetchone()
    if row is None:
        raise ReviewError(f"instruction {instruction_id} does not exist")
    return dict(zip(("itype", "lang", "question", "options", "answer", "status"), row, strict=True))


# edits ----------------------------------------------------------------------------------
def edit_instruction(
    db: Database, instruction_id: int, field: str, value: Any, author: str | None = None
) -> list[Change]:
    """Set an instruction's question, options or answer; [] when the value is unchanged."""
    validate = VALIDATORS.get(field)
    if validate is None:
        raise ReviewError(
            f"cannot edit {field!r}; editable: {', '.join(EDITABLE_INSTRUCTION_FIELDS)}"
        )
    with db.tx() as cur:
        item = _instruction(cur, instruction_id)
        new = validate(value, item)
        if new == item[field]:
            return []
        changes = [Change("instructions", instruction_id, field, item[field], new)]
        apply(cur, changes, author or default_author())
    return changes


def set_instruction_status(
    db: Database, instruction_ids: Iterable[int], status: str, author: str | None = None
) -> list[Change]:
    if status not in INSTRUCTION_STATUSES:
        raise ReviewError(f"unknown instruction status {status!r}")
    ids = list(dict.fromkeys(instruction_ids))
    with db.tx() as cur:
        # One read for all of them (a bulk action passes 100k ids), in the order given.
        old = dict(
            cur.execute(
                "SELECT id, status FROM instructions WHERE id IN (SELECT unnest(?::BIGINT[]))",
                [ids],
            ).fetchall()
        )
        missing = [i for i in ids if i not in old]
        if missing:
            raise ReviewError(f"instruction {missing[0]} does not exist")
        changes = [
            Change("instructions", iid, "status", old[iid], status)
            for iid in ids
            if old[iid] != status
        ]
        apply(cur, changes, author or default_author())
    return changes


def set_image_status(
    db: Database, image_id: int, status: str, author: str | None = None, cascade: bool = True
) -> list[Change]:
    """Decide an image. With `cascade`, a decision also applies to its undecided instructions
    (new, ok, needs_review); instructions a person already decided keep their status."""
    if status not in IMAGE_STATUSES:
        raise ReviewError(f"unknown image status {status!r}")
    with db.tx() as cur:
        old = read_field(cur, "images", "status", image_id)
        changes = [] if old == status else [Change("images", image_id, "status", old, status)]
        if cascade and status in DECISIONS:
            placeholders = ", ".join("?" for _ in UNDECIDED)
            rows = cur.execute(
                f"SELECT id, status FROM instructions WHERE image_id = ? "
                f"AND status IN ({placeholders}) ORDER BY id",
                [image_id, *UNDECIDED],
            ).fetchall()
            changes += [Change("instructions", iid, "status", s, status) for iid, s in rows]
        apply(cur, changes, author or default_author())
    return changes


def set_image_domain(
    db: Database, image_ids: Iterable[int], domain: str, author: str | None = None
) -> list[Change]:
    """Move images into `domain` (an existing one); undone like any other edit."""
    with db.tx() as cur:
        if cur.execute("SELECT 1 FROM domains WHERE name = ?", [domain]).fetchone() is None:
            raise ReviewError(f"no domain named {domain!r}")
        changes = []
        for image_id in image_ids:
            old = read_field(cur, "images", "domain", image_id)
            if old != domain:
                changes.append(Change("images", image_id, "domain", old, domain))
        apply(cur, changes, author or default_author())
    return changes


def save_caption(
    db: Database, image_id: int, text: str, author: str | None = None, lang: str | None = None
) -> list[Change]:
    """Store `text` as a new caption version and make it current; [] when it is unchanged."""
    text = (text or "").strip()
    if not text:
        raise ReviewError("the caption is empty; reject the image instead of clearing it")
    with db.tx() as cur:
        if cur.execute("SELECT 1 FROM images WHERE id = ?", [image_id]).fetchone() is None:
            raise ReviewError(f"image {image_id} does not exist")
        current = read_field(cur, "images", "caption", image_id)
        if current is not None:
            old_text, old_lang = cur.execute(
                "SELECT text, lang FROM captions WHERE id = ?", [current]
            ).fetchone()
            if old_text == text:
                return []
            lang = lang or old_lang
        new_id = cur.execute(
            "INSERT INTO captions (image_id, version, text, lang, is_current, origin) "
            "SELECT ?, coalesce(max(version), 0) + 1, ?, ?, false, 'manual' "
            "FROM captions WHERE image_id = ? RETURNING id",
            [image_id, text, lang, image_id],
        ).fetchone()[0]
        changes = [Change("images", image_id, "caption", current, new_id)]
        apply(cur, changes, author or default_author())
    return changes


def make_caption_current(
    db: Database, image_id: int, caption_id: int, author: str | None = None
) -> list[Change]:
    """Bring back an earlier caption version."""
    with db.tx() as cur:
        owner = cur.execute("SELECT image_id FROM captions WHERE id = ?", [caption_id]).fetchone()
        if owner is None or owner[0] != image_id:
            raise ReviewError(f"caption {caption_id} is not a version of image {image_id}")
        current = read_field(cur, "images", "caption", image_id)
        if current == caption_id:
            return []
        changes = [Change("images", image_id, "caption", current, caption_id)]
        apply(cur, changes, author or default_author())
    return changes


@dataclass(frozen=True)
class Revision:
    id: int
    tbl: str
    row_id: int
    field: str
    old: str | None
    new: str | None
    author: str | None
    created_at: datetime


def revisions_for(db: Database, table: str, row_id: int) -> list[Revision]:
    """The edit log of one row, oldest first."""
    rows = (
        db.cursor()
        .execute(
            "SELECT id, tbl, row_id, field, old, new, author, created_at FROM revisions "
            "WHERE tbl = ? AND row_id = ? ORDER BY id",
            [table, row_id],
        )
        .fetchall()
    )
    return [Revision(*r) for r in rows]
