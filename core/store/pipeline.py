"""Typed queries for the pipeline stages: the images they work on, captions (versioned),
generated instructions, check results and verify verdicts. Prompt overrides live in
core.store.prompt_overrides, OCR results in core.store.ocr.

Check and verify never overwrite a person's decision: they change `status` only while it is
one of the machine states (new, ok, needs_review).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.store.db import Database
from core.vocab import MACHINE_STATUSES

VERIFY_FLAG = "verify_disagree"
# Flags the verify modes and blind answerability set (core.store.quality); a re-check keeps them.
CAPTION_FLAG = "caption_disagree"
UNTELLABLE_FLAG = "caption_untellable"
BLIND_FLAG = "answerable_blind"
MODEL_FLAGS = (VERIFY_FLAG, CAPTION_FLAG, UNTELLABLE_FLAG, BLIND_FLAG)


# Images as the stages see them -------------------------------------------------------------


@dataclass
class StageImage:
    id: int
    domain: str
    storage: str
    path: str
    title: str | None
    tags: list[str]


def select_images(
    db: Database,
    domain: str | None = None,
    limit: int | None = None,
    ids: Sequence[int] | None = None,
) -> list[StageImage]:
    """Images a stage works on, in id order; rejected images are left out."""
    sql = (
        "SELECT id, coalesce(domain, ''), storage, path, title, coalesce(tags, []) FROM images "
        "WHERE status <> 'rejected'"
    )
    params: list = []
    if domain:
        sql += " AND domain = ?"
        params.append(domain)
    if ids is not None:
        sql += " AND list_contains(?, id)"
        params.append(list(ids))
    sql += " ORDER BY id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [StageImage(r[0], r[1], r[2], r[3], r[4], list(r[5])) for r in db.fetchall(sql, params)]


def missing_image_ids(db: Database, ids: Sequence[int]) -> list[int]:
    """The ids among `ids` that name no image of the project, sorted."""
    if not ids:
        return []
    rows = db.fetchall(
        "SELECT DISTINCT w.id FROM (SELECT unnest(?::BIGINT[]) AS id) w "
        "ANTI JOIN images i ON i.id = w.id ORDER BY w.id",
        [list(ids)],
    )
    return [r[0] for r in rows]


def missing_instruction_ids(db: Database, ids: Sequence[int]) -> list[int]:
    """The ids among `ids` that name no instruction of the project, sorted."""
    if not ids:
        return []
    rows = db.fetchall(
        "SELECT DISTINCT w.id FROM (SELECT unnest(?::BIGINT[]) AS id) w "
        "ANTI JOIN instructions n ON n.id = w.id ORDER BY w.id",
        [list(ids)],
    )
    return [r[0] for r in rows]


# Captions ------------------------------------------------------------------------------------


@dataclass
class CaptionRow:
    id: int
    image_id: int
    version: int
    text: str
    lang: str | None
    model: str | None
    prompt_hash: str | None
    job_id: int | None
    is_current: bool


_CAPTION_COLS = "id, image_id, version, text, lang, model, prompt_hash, job_id, is_current"


def add_caption(
    db: Database,
    image_id: int,
    text: str,
    lang: str,
    model: str | None,
    prompt_hash: str | None,
    job_id: int | None,
    origin: str = "generated",
) -> CaptionRow:
    """A new current caption of the image in `lang`; older ones stay as earlier versions."""
    with db.tx() as cur:
        version = cur.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM captions WHERE image_id = ?", [image_id]
        ).fetchone()[0]
        cur.execute(
            "UPDATE captions SET is_current = false WHERE image_id = ? AND lang = ? AND is_current",
            [image_id, lang],
        )
        row = cur.execute(
            "INSERT INTO captions (image_id, version, text, lang, model, prompt_hash, job_id, "
            f"is_current, origin) VALUES (?, ?, ?, ?, ?, ?, ?, true, ?) RETURNING {_CAPTION_COLS}",
            [image_id, version, text, lang, model, prompt_hash, job_id, origin],
        ).fetchone()
    return CaptionRow(*row)


def current_caption(
    db: Database, image_id: int, lang: str | None = None, exact: bool = False
) -> CaptionRow | None:
    """The image's current caption in `lang`; with exact=False a current caption in another
    language serves when there is none in `lang`."""
    sql = f"SELECT {_CAPTION_COLS} FROM captions WHERE image_id = ? AND is_current"
    params: list = [image_id]
    if exact:
        sql += " AND lang = ?"
        params.append(lang)
    row = db.fetchone(
        sql + " ORDER BY (lang = ?) DESC, version DESC LIMIT 1", [*params, lang or ""]
    )
    return CaptionRow(*row) if row else None


def caption_history(db: Database, image_id: int) -> list[CaptionRow]:
    rows = db.fetchall(
        f"SELECT {_CAPTION_COLS} FROM captions WHERE image_id = ? ORDER BY version", [image_id]
    )
    return [CaptionRow(*r) for r in rows]


# Instructions ------------------------------------------------------------------------------


@dataclass
class NewInstruction:
    image_id: int
    itype: str
    lang: str
    question: str
    answer: str
    options: list[str] | None = None
    origin: str = "generated"
    job_id: int | None = None
    model: str | None = None
    prompt_hash: str | None = None
    seed_ids: list[int] = field(default_factory=list)
    parent_id: int | None = None
    round: int | None = None  # set with conversation grouping


@dataclass
class InstructionRow:
    id: int
    image_id: int
    domain: str
    itype: str
    lang: str
    question: str
    options: list[str] | None
    answer: str
    status: str
    origin: str
    check_flags: list[str]
    conversation_id: int | None
    round: int | None
    verify_answer: str | None
    verify_agree: bool | None


_INSTR_COLS = (
    "n.id, n.image_id, coalesce(i.domain, ''), n.itype, n.lang, n.question, n.options, n.answer, "
    "n.status, n.origin, coalesce(n.check_flags, []), n.conversation_id, n.round, "
    "n.verify_answer, n.verify_agree"
)


def insert_instructions(
    db: Database, rows: Iterable[NewInstruction], conversation: bool = False
) -> list[int]:
    """Insert rows in one transaction; conversation=True groups them as one multi-round
    conversation whose id is the first row's id, rounds numbered 1.. in order."""
    ids: list[int] = []
    with db.tx() as cur:
        for r in rows:
            ids.append(
                cur.execute(
                    "INSERT INTO instructions (image_id, itype, lang, question, options, answer, "
                    "origin, job_id, model, prompt_hash, seed_ids, parent_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    [r.image_id, r.itype, r.lang, r.question, r.options, r.answer, r.origin,
                     r.job_id, r.model, r.prompt_hash, r.seed_ids, r.parent_id],
                ).fetchone()[0]
            )  # fmt: skip
        if conversation and ids:
            for n, row_id in enumerate(ids, start=1):
                cur.execute(
                    "UPDATE instructions SET conversation_id = ?, round = ? WHERE id = ?",
                    [ids[0], n, row_id],
                )
    return ids


def select_instructions(
    db: Database,
    domain: str | None = None,
    image_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
    itypes: Sequence[str] | None = None,
    lang: str | None = None,
    ids: Sequence[int] | None = None,
) -> list[InstructionRow]:
    """Instructions in (image, id) order, filtered."""
    sql = f"SELECT {_INSTR_COLS} FROM instructions n JOIN images i ON i.id = n.image_id WHERE true"
    params: list = []
    for column, values in (
        ("n.image_id", image_ids),
        ("n.status", statuses),
        ("n.itype", itypes),
        ("n.id", ids),
    ):
        if values is not None:
            sql += f" AND list_contains(?, {column})"
            params.append(list(values))
    if domain:
        sql += " AND i.domain = ?"
        params.append(domain)
    if lang:
        sql += " AND n.lang = ?"
        params.append(lang)
    sql += " ORDER BY n.image_id, n.id"
    return [_instruction(r) for r in db.fetchall(sql, params)]


def _instruction(r) -> InstructionRow:
    options = list(r[6]) if r[6] is not None else None
    return InstructionRow(*r[:6], options, *r[7:10], list(r[10]), *r[11:])


def count_instructions(db: Database, image_id: int, itype: str, lang: str) -> int:
    return db.scalar(
        "SELECT count(*) FROM instructions WHERE image_id = ? AND itype = ? AND lang = ? "
        "AND origin = 'generated'",
        [image_id, itype, lang],
    )


def save_check_results(db: Database, results: Iterable[tuple[int, list[str], list[str]]]) -> None:
    """(id, flag names, messages) per item; machine statuses become ok or needs_review.
    A model's flag stored earlier (MODEL_FLAGS) is kept: re-checking does not clear it.

    Set-based: one read of the model flags to keep, one UPDATE joined to the results (a
    statement per row took hours at a million items)."""
    import pyarrow as pa

    ids, flag_lists, message_lists = [], [], []
    for row_id, flags, messages in results:
        ids.append(row_id)
        flag_lists.append(list(flags))
        message_lists.append(list(messages))
    if not ids:
        return
    with db.tx() as cur:
        kept = {
            row_id: [(f, m) for f, m in zip(flags, messages, strict=False) if f in MODEL_FLAGS]
            for row_id, flags, messages in cur.execute(
                "SELECT id, check_flags, coalesce(check_messages, []) FROM instructions "
                "WHERE list_has_any(check_flags, ?::VARCHAR[])",
                [list(MODEL_FLAGS)],
            ).fetchall()
        }
        for k, row_id in enumerate(ids):
            for f, m in kept.get(row_id, ()):
                flag_lists[k].append(f)
                message_lists[k].append(m)
        statuses = ["needs_review" if flags else "ok" for flags in flag_lists]
        check_results = pa.table(  # noqa: F841 (read by the SQL below)
            {
                "id": pa.array(ids, pa.int64()),
                "flags": pa.array(flag_lists, pa.list_(pa.string())),
                "messages": pa.array(message_lists, pa.list_(pa.string())),
                "new_status": pa.array(statuses, pa.string()),
            }
        )
        cur.register("check_results", check_results)
        try:
            cur.execute(
                "UPDATE instructions SET check_flags = r.flags, check_messages = r.messages, "
                "status = CASE WHEN list_contains(?, instructions.status) THEN r.new_status "
                "ELSE instructions.status END, updated_at = current_timestamp "
                "FROM check_results r WHERE instructions.id = r.id",
                [list(MACHINE_STATUSES)],
            )
        finally:
            cur.unregister("check_results")


def save_verify(
    db: Database, row_id: int, answer: str, agree: bool, score: float, message: str
) -> None:
    """Store the VLM's own answer; a disagreement adds the verify flag and sends a machine-state
    item to review. Re-verifying replaces the earlier verdict."""
    with db.tx() as cur:
        flags, messages = cur.execute(
            "SELECT coalesce(check_flags, []), coalesce(check_messages, []) FROM instructions "
            "WHERE id = ?",
            [row_id],
        ).fetchone()
        kept = [(f, m) for f, m in zip(flags, messages, strict=False) if f != VERIFY_FLAG]
        if not agree:
            kept.append((VERIFY_FLAG, message))
        cur.execute(
            "UPDATE instructions SET verify_answer = ?, verify_agree = ?, verify_score = ?, "
            "check_flags = ?, check_messages = ?, "
            "status = CASE WHEN list_contains(?, status) AND ? THEN 'needs_review' ELSE status END, "
            "updated_at = current_timestamp WHERE id = ?",
            [answer, agree, score, [f for f, _ in kept], [m for _, m in kept],
             list(MACHINE_STATUSES), not agree, row_id],
        )  # fmt: skip


def expanded_parents(db: Database, mode: str) -> set[int]:
    """Ids of items that already have an expansion of this kind: rephrase keeps the language,
    translate changes it."""
    same = "=" if mode == "rephrase" else "<>"
    rows = db.fetchall(
        "SELECT DISTINCT c.parent_id FROM instructions c JOIN instructions p ON p.id = c.parent_id "
        f"WHERE c.origin = 'expanded' AND c.lang {same} p.lang"
    )
    return {r[0] for r in rows}
