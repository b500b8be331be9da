"""The quality-gate columns of instructions: caption verification, blind answerability and
the risk score (migration 021), with the queries that order and count by risk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.store.db import Database
from core.store.pipeline import (
    _INSTR_COLS,
    BLIND_FLAG,
    CAPTION_FLAG,
    UNTELLABLE_FLAG,
    InstructionRow,
    _instruction,
)
from core.vocab import MACHINE_STATUSES


@dataclass
class RiskInputs:
    id: int
    itype: str
    lang: str
    question: str
    answer: str
    check_flags: list[str]
    verify_agree: bool | None
    verify_score: float | None
    caption_agree: bool | None
    caption_untellable: bool | None
    blind_score: float | None


def _set_flag(cur, row_id: int, name: str, message: str | None, review: bool = True) -> None:
    """Add (message given) or drop one machine flag; with `review`, a machine-state item with a
    new flag goes to review. A person's decision (accepted / rejected / needs_fix) is never
    moved."""
    flags, messages = cur.execute(
        "SELECT coalesce(check_flags, []), coalesce(check_messages, []) FROM instructions "
        "WHERE id = ?",
        [row_id],
    ).fetchone()
    kept = [(f, m) for f, m in zip(flags, messages, strict=False) if f != name]
    if message is not None:
        kept.append((name, message))
    cur.execute(
        "UPDATE instructions SET check_flags = ?, check_messages = ?, "
        "status = CASE WHEN list_contains(?, status) AND ? THEN 'needs_review' ELSE status END, "
        "updated_at = current_timestamp WHERE id = ?",
        [[f for f, _ in kept], [m for _, m in kept], list(MACHINE_STATUSES),
         review and message is not None, row_id],
    )  # fmt: skip


def save_caption_verify(
    db: Database, row_id: int, answer: str, agree: bool, score: float, untellable: bool,
    message: str | None,
) -> None:  # fmt: skip
    """The text model's caption-only answer; disagreement and "cannot be told" are flags."""
    with db.tx() as cur:
        cur.execute(
            "UPDATE instructions SET caption_verify_answer = ?, caption_verify_agree = ?, "
            "caption_verify_score = ?, caption_untellable = ? WHERE id = ?",
            [answer, agree, score, untellable, row_id],
        )
        _set_flag(cur, row_id, CAPTION_FLAG, None if agree or untellable else message)
        _set_flag(cur, row_id, UNTELLABLE_FLAG, message if untellable else None)


def save_blind(db: Database, row_id: int, score: float, message: str | None) -> None:
    """The blind score once every trial answered; `message` set: the item is answerable
    without the image (a flag for the reviewer, not a rejection: its status is left alone)."""
    with db.tx() as cur:
        cur.execute("UPDATE instructions SET blind_score = ? WHERE id = ?", [score, row_id])
        _set_flag(cur, row_id, BLIND_FLAG, message, review=False)


def risk_inputs(db: Database, ids: Sequence[int] | None = None) -> list[RiskInputs]:
    sql = (
        "SELECT id, itype, lang, question, answer, coalesce(check_flags, []), verify_agree, "
        "verify_score, caption_verify_agree, caption_untellable, blind_score FROM instructions"
    )
    params: list = []
    if ids is not None:
        ids = list(ids)
        if not ids:
            return []
        # the range lets zone maps skip the table outside it (one id: a few row groups)
        sql += " WHERE id BETWEEN ? AND ? AND list_contains(?, id)"
        params += [min(ids), max(ids), ids]
    return [
        RiskInputs(*r[:5], list(r[5]), *r[6:]) for r in db.fetchall(sql + " ORDER BY id", params)
    ]


def save_risk(db: Database, values: Iterable[tuple[int, float]]) -> None:
    # One set-based statement, not executemany: DuckDB's executemany keeps the GIL for the
    # whole loop, which froze the GUI thread for seconds while a check ran on a worker.
    values = list(values)
    if not values:
        return
    with db.tx() as cur:
        cur.execute(
            "UPDATE instructions SET risk = v.risk FROM (SELECT unnest(?) AS id, "
            "unnest(?::DOUBLE[]) AS risk) v WHERE instructions.id = v.id "
            "AND instructions.id BETWEEN ? AND ?",
            [
                [i for i, _ in values],
                [r for _, r in values],
                min(i for i, _ in values),
                max(i for i, _ in values),
            ],  # fmt: skip
        )


def select_by_risk(
    db: Database,
    domain: str | None = None,
    statuses: Sequence[str] | None = None,
    itypes: Sequence[str] | None = None,
    limit: int | None = None,
    after: int | None = None,
) -> list[InstructionRow]:
    """Instructions riskiest first (unscored last), then by image and id: the review queue.
    `after`: only those that come after this item in that order (the queue's next step)."""
    sql = f"SELECT {_INSTR_COLS} FROM instructions n JOIN images i ON i.id = n.image_id WHERE true"
    params: list = []
    if after is not None:
        key = db.fetchone(
            "SELECT coalesce(-risk, 2.0), image_id, id FROM instructions WHERE id = ?", [after]
        )
        if key is not None:
            # The order as one ascending key: -risk (unscored as 2, after every score).
            sql += (
                " AND (coalesce(-n.risk, 2.0) > ? OR (coalesce(-n.risk, 2.0) = ? AND "
                "(n.image_id > ? OR (n.image_id = ? AND n.id > ?))))"
            )
            params += [key[0], key[0], key[1], key[1], key[2]]
    for column, values in (("n.status", statuses), ("n.itype", itypes)):
        if values is not None:
            sql += f" AND list_contains(?, {column})"
            params.append(list(values))
    if domain:
        sql += " AND i.domain = ?"
        params.append(domain)
    sql += " ORDER BY n.risk DESC NULLS LAST, n.image_id, n.id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [_instruction(r) for r in db.fetchall(sql, params)]


def risk_of(db: Database, ids: Sequence[int]) -> dict[int, float | None]:
    return dict(
        db.fetchall("SELECT id, risk FROM instructions WHERE list_contains(?, id)", [list(ids)])
    )


def quality_detail(db: Database, row_id: int) -> dict | None:
    """What the review pane shows next to an item (docs/pipeline.md, "What the review pane
    reads"): the image verifier's answer, the caption verifier's answer, the blind answers and
    score, the stored risk and the parts it is made of, and every flag with its message."""
    row = db.fetchone(
        "SELECT verify_answer, verify_agree, verify_score, caption_verify_answer, "
        "caption_verify_agree, caption_verify_score, caption_untellable, blind_answers, "
        "blind_score, risk, coalesce(check_flags, []), coalesce(check_messages, []) "
        "FROM instructions WHERE id = ?",
        [row_id],
    )
    if row is None:
        return None
    keys = ("image_answer", "image_agree", "image_score", "caption_answer", "caption_agree",
            "caption_score", "caption_untellable", "blind_answers", "blind_score", "risk")  # fmt: skip
    out = dict(zip(keys, row[:10], strict=True))
    out["blind_answers"] = list(out["blind_answers"]) if out["blind_answers"] is not None else None
    out["flags"] = [{"name": f, "message": m} for f, m in zip(row[10], row[11], strict=False)]
    # The parts are recomputed from the stored inputs by the one risk formula (a store module
    # reaching up into the pipeline only here, lazily: the formula is not SQL).
    from core.pipeline.risk import risk_parts

    (inputs,) = risk_inputs(db, [row_id])
    out["risk_parts"] = [{"signal": s, "weight": w} for s, w in risk_parts(inputs)]
    return out


def risk_counts(db: Database, threshold: float) -> dict:
    """Per domain x type: items scored, and how many sit at or above `threshold`."""
    out: dict[str, dict] = {}
    for domain, itype, scored, above in db.fetchall(
        "SELECT coalesce(i.domain, ''), n.itype, count(n.risk), count(*) FILTER (WHERE n.risk >= ?) "
        "FROM instructions n JOIN images i ON i.id = n.image_id GROUP BY ALL ORDER BY ALL",
        [threshold],
    ):
        out.setdefault(domain, {})[itype] = {"scored": scored, "above": above}
    return out


def caption_verified_ids(db: Database, ids: Sequence[int]) -> set[int]:
    rows = db.fetchall(
        "SELECT id FROM instructions WHERE list_contains(?, id) AND caption_verify_answer IS NOT NULL",
        [list(ids)],
    )
    return {r[0] for r in rows}


def blind_state(db: Database, ids: Sequence[int]) -> dict[int, list[str | None] | None]:
    """Per item its blind answers so far (one slot per trial; None: not asked yet)."""
    rows = db.fetchall(
        "SELECT id, blind_answers FROM instructions WHERE list_contains(?, id)", [list(ids)]
    )
    return {i: (list(a) if a is not None else None) for i, a in rows}


def save_blind_trial(db: Database, row_id: int, trial: int, trials: int, answer: str) -> list:
    """Put one trial's answer in its slot; returns the answers (None where still missing)."""
    with db.tx() as cur:
        (current,) = cur.execute(
            "SELECT blind_answers FROM instructions WHERE id = ?", [row_id]
        ).fetchone()
        answers = (
            list(current) if current is not None and len(current) == trials else [None] * trials
        )
        answers[trial] = answer
        cur.execute("UPDATE instructions SET blind_answers = ? WHERE id = ?", [answers, row_id])
    return answers
