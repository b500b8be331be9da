"""Single items written outside the review pane's edits: one a person adds by hand (origin
`manual`, checked by the same rules as an edit) and one a model regenerates in place."""

from __future__ import annotations

from core import itypes
from core.store.db import Database
from core.store.review_apply import apply
from core.store.review_change import Change, ReviewError, default_author
from core.store.review_rules import VALIDATORS
from core.vocab import LANGS, ItemStatus, Origin

CREATED = "created"  # the revisions field that records an item's creation


def add_instruction(
    db: Database,
    image_id: int,
    itype: str,
    lang: str,
    question: str,
    answer: str,
    options: list[str] | None = None,
    author: str | None = None,
) -> int:
    """Insert a hand-written item, accepted (a person wrote it), and log its creation in
    `revisions`; returns its id. Bad values raise ReviewError and insert nothing."""
    if itype not in itypes.names():
        raise ReviewError(f"unknown instruction type {itype!r}; known: {', '.join(itypes.names())}")
    if lang not in LANGS:
        raise ReviewError(f"unknown language {lang!r}; expected {', '.join(LANGS)}")
    item = {"itype": itype, "lang": lang}
    clean_question = VALIDATORS["question"](question, item)
    clean_answer = VALIDATORS["answer"](answer, item)
    clean_options = None
    if itypes.get(itype).has_options:
        clean_options = VALIDATORS["options"](options or [], item)
    elif options:
        raise ReviewError(f"a {itype} instruction has no options")
    with db.tx() as cur:
        if cur.execute("SELECT 1 FROM images WHERE id = ?", [image_id]).fetchone() is None:
            raise ReviewError(f"image {image_id} does not exist")
        new_id = cur.execute(
            "INSERT INTO instructions (image_id, itype, lang, question, options, answer, origin, "
            "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [image_id, itype, lang, clean_question, clean_options, clean_answer,
             Origin.MANUAL.value, ItemStatus.ACCEPTED.value],
        ).fetchone()[0]  # fmt: skip
        cur.execute(
            "INSERT INTO revisions (tbl, row_id, field, old, new, author) "
            "VALUES ('instructions', ?, ?, NULL, ?, ?)",
            [new_id, CREATED, clean_question, author or default_author()],
        )
    return new_id


# What the machine said about the old text no longer holds for the new one.
_MACHINE_COLUMNS = (
    "check_flags", "check_messages", "verify_answer", "verify_agree", "verify_score",
    "caption_verify_answer", "caption_verify_agree", "caption_verify_score",
    "caption_untellable", "blind_score", "blind_answers", "risk",
)  # fmt: skip


def replace_item(
    db: Database,
    item_id: int,
    question: str,
    answer: str,
    options: list[str] | None,
    job_id: int | None,
    model: str | None,
    prompt_hash: str | None,
    seed_ids: list[int] | None,
) -> bool:
    """Put a regenerated text into item `item_id` (its id, image, conversation and round stay):
    the text changes are logged in `revisions` (author "regenerate <model>"), the status goes
    back to `new` and the machine's flags, verdicts and risk are cleared. False when the item
    was deleted meanwhile."""
    with db.tx() as cur:
        row = cur.execute(
            "SELECT question, options, answer, status FROM instructions WHERE id = ?", [item_id]
        ).fetchone()
        if row is None:
            return False
        old = dict(zip(("question", "options", "answer", "status"), row, strict=True))
        old["options"] = list(old["options"]) if old["options"] is not None else None
        new = {"question": question, "options": options, "answer": answer,
               "status": ItemStatus.NEW.value}  # fmt: skip
        changes = [
            Change("instructions", item_id, f, old[f], new[f]) for f in new if old[f] != new[f]
        ]
        apply(cur, changes, f"regenerate {model or ''}".strip())
        cleared = ", ".join(f"{c} = NULL" for c in _MACHINE_COLUMNS)
        cur.execute(
            f"UPDATE instructions SET {cleared}, job_id = ?, model = ?, prompt_hash = ?, "
            "seed_ids = ?, updated_at = current_timestamp WHERE id = ?",
            [job_id, model, prompt_hash, seed_ids, item_id],
        )
    return True
