"""The check stage's reads and writes, a page of whole images at a time.

A page is the next `page_images` images (by id) with instructions to check, read with only
the columns the rules and the risk score need; results (flags, status and risk) go back in one
UPDATE ... FROM an Arrow table per page. Memory holds one page and the sorted image ids (8
bytes an image), whatever the project's size, and a 1M-item re-check is ~1,000 bulk statements
instead of 2M single-row ones.

Every statement is bounded to the page's key range (image ids for the reads, item ids for the
write), so DuckDB's zone maps skip the rest of the table: an earlier version found each page's
last image with a DISTINCT over all later rows and joined the whole table per UPDATE, which
made a 1M-item check quadratic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

from core.store.db import Database
from core.store.pipeline import MODEL_FLAGS
from core.vocab import MACHINE_STATUSES

# ~1,300 items at MMInstruct's density. Small, because turning a page's rows into Python
# objects, pickling it for a worker and binding its results are each one call that holds the
# GIL: at 500 images a page (6,500 items) the window stalled ~250 ms; every statement is
# bounded to its page, so more pages cost little.
PAGE_IMAGES = 100
FETCH_ROWS = 200  # rows turned into Python per call while a page is read


@dataclass(frozen=True)
class CheckRow:
    id: int
    image_id: int
    itype: str
    lang: str
    question: str
    options: list[str] | None
    answer: str
    kept_flags: list[str]  # flags a re-check keeps (the models' verdicts, MODEL_FLAGS)
    kept_messages: list[str]
    # the risk score's other inputs (core/store/quality.py RiskInputs), as stored
    verify_agree: bool | None = None
    verify_score: float | None = None
    caption_agree: bool | None = None
    caption_untellable: bool | None = None
    blind_score: float | None = None
    # (check_flags, check_messages, status, risk) as stored: a re-check writes a row only
    # when they change (None: unknown, always written)
    stored: tuple | None = None

    def __reduce__(self):
        # What a worker process gets: the rules' inputs without the stored results, which
        # were 2.6x the bytes of a page to pickle, send and unpickle (523 -> 198 KB).
        return (CheckRow, tuple(getattr(self, f.name) for f in fields(self) if f.name != "stored"))


def _where(domain: str | None, image_ids: Sequence[int] | None) -> tuple[str, list]:
    sql, params = "n.status <> 'rejected'", []
    if image_ids is not None:
        sql += " AND list_contains(?, n.image_id)"
        params.append(list(image_ids))
    if domain:
        sql += " AND n.image_id IN (SELECT id FROM images WHERE domain = ?)"
        params.append(domain)
    return sql, params


def count_images(
    db: Database, domain: str | None, image_ids: Sequence[int] | None, limit: int | None
) -> int:
    where, params = _where(domain, image_ids)
    n = db.scalar(f"SELECT count(DISTINCT n.image_id) FROM instructions n WHERE {where}", params)
    return n if limit is None else min(n, limit)


def pages(
    db: Database,
    domain: str | None = None,
    image_ids: Sequence[int] | None = None,
    limit: int | None = None,
    page_images: int | None = None,
) -> Iterator[list[CheckRow]]:
    """Rows to check in (image, id) order, `page_images` whole images per page."""
    page_images = page_images or PAGE_IMAGES
    where, params = _where(domain, image_ids)
    cur = db.cursor()
    # The images to check, once, as one int64 array: each page is then a slice of it.
    todo = cur.execute(
        f"SELECT DISTINCT n.image_id FROM instructions n WHERE {where} ORDER BY 1", params
    ).fetchnumpy()["image_id"]
    if limit is not None:
        todo = todo[: max(limit, 0)]
    for start in range(0, len(todo), page_images):
        chunk = todo[start : start + page_images]
        lo, hi = int(chunk[0]), int(chunk[-1])
        # The range bounds the scan (zone maps); the page's ids beside it change DuckDB's
        # plan: with the range alone, once check_messages holds text (after a first check)
        # the filtered scan of that list column took ~0.6-0.9 s for a 1,300-item page of a
        # 39k-item project (DuckDB 2.0.1), with both ~20 ms, and the same at 1M items.
        got = cur.execute(
            f"SELECT {_COLUMNS} FROM instructions n WHERE {where} AND n.image_id BETWEEN ? AND ? "
            "AND n.image_id = ANY(?::BIGINT[]) ORDER BY n.image_id, n.id",
            [*params, lo, hi, chunk.tolist()],
        )
        # A slice of rows per call: turning a page's rows into Python objects is one call
        # that holds the GIL (a fetchall of 1,300 rows with their text stalled the window
        # 60+ ms on a busy machine); between slices the window's thread gets it back.
        page: list[CheckRow] = []
        while rows := got.fetchmany(FETCH_ROWS):
            page += [_row(r) for r in rows]
        yield page


_COLUMNS = (
    "n.id, n.image_id, n.itype, n.lang, n.question, n.options, n.answer, "
    "coalesce(n.check_flags, []), coalesce(n.check_messages, []), n.verify_agree, "
    "n.verify_score, n.caption_verify_agree, n.caption_untellable, n.blind_score, "
    "n.check_flags, n.check_messages, n.status, n.risk"
)


def _row(r) -> CheckRow:
    kept = [(f, m) for f, m in zip(r[7], r[8], strict=False) if f in MODEL_FLAGS]
    return CheckRow(
        r[0], r[1], r[2], r[3], r[4], list(r[5]) if r[5] is not None else None, r[6],
        [f for f, _ in kept], [m for _, m in kept], *r[9:14],
        (r[14], r[15], r[16], r[17]),
    )  # fmt: skip


def current_captions(db: Database, image_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """image id -> {lang: current caption text}, for the rules that compare with the caption."""
    out: dict[int, dict[str, str]] = {}
    if not image_ids:
        return out
    for image_id, lang, text in db.fetchall(
        "SELECT image_id, lang, text FROM captions WHERE is_current "
        "AND image_id BETWEEN ? AND ? AND list_contains(?, image_id)",
        [min(image_ids), max(image_ids), list(image_ids)],
    ):
        out.setdefault(image_id, {})[lang] = text
    return out


def save_page(
    db: Database,
    rows: list[CheckRow],
    flags: list[list[tuple[str, str]]],
    risks: list[float] | None = None,
) -> None:
    """Store each row's (name, message) flags after the kept ones' and, given, its risk;
    machine statuses become ok or needs_review, a person's decision (accepted, needs_fix)
    stays."""
    if not rows:
        return
    names = [[n for n, _ in f] + r.kept_flags for r, f in zip(rows, flags, strict=True)]
    texts = [[m for _, m in f] + r.kept_messages for r, f in zip(rows, flags, strict=True)]
    status = [
        ("needs_review" if n else "ok") if r.stored is None or r.stored[2] in MACHINE_STATUSES
        else r.stored[2]
        for r, n in zip(rows, names, strict=True)
    ]  # fmt: skip
    new_risks = risks if risks is not None else [None] * len(rows)
    # Only the rows whose flags, messages or status change are written with their lists: an
    # UPDATE of a list column rewrites the whole row (DuckDB deletes and appends it), ~0.6 s
    # of CPU a 1,000-item page at 1M items, most of it for rows a re-check leaves as they
    # were. A row whose risk alone moved gets that one column.
    lists, scores = [], []
    for k, r in enumerate(rows):
        stored = r.stored
        if stored is None or (stored[0], stored[1], stored[2]) != (names[k], texts[k], status[k]):
            lists.append(k)
        elif new_risks[k] is not None and new_risks[k] != stored[3]:
            scores.append(k)
    risk = "coalesce(v.risk, instructions.risk)" if risks is None else "v.risk"
    # The page as unnested list parameters, not cur.register() of an Arrow table: register
    # imports pandas on its first call (~350 ms holding the GIL, a stall of the GUI's window)
    with db.tx() as cur:
        if lists:
            ids = [rows[k].id for k in lists]
            cur.execute(
                "UPDATE instructions SET check_flags = v.flags, check_messages = v.messages, "
                "status = CASE WHEN list_contains(?, instructions.status) THEN v.status "
                f"ELSE instructions.status END, risk = {risk}, updated_at = current_timestamp "
                "FROM (SELECT unnest(?::BIGINT[]) AS id, unnest(?::VARCHAR[][]) AS flags, "
                "unnest(?::VARCHAR[][]) AS messages, unnest(?::VARCHAR[]) AS status, "
                "unnest(?::DOUBLE[]) AS risk) v WHERE instructions.id = v.id "
                "AND instructions.id BETWEEN ? AND ?",
                [list(MACHINE_STATUSES), ids, [names[k] for k in lists],
                 [texts[k] for k in lists], [status[k] for k in lists],
                 [new_risks[k] for k in lists], min(ids), max(ids)],
            )  # fmt: skip
        if scores:
            ids = [rows[k].id for k in scores]
            cur.execute(
                "UPDATE instructions SET risk = v.risk, updated_at = current_timestamp "
                "FROM (SELECT unnest(?::BIGINT[]) AS id, unnest(?::DOUBLE[]) AS risk) v "
                "WHERE instructions.id = v.id AND instructions.id BETWEEN ? AND ?",
                [ids, [new_risks[k] for k in scores], min(ids), max(ids)],
            )
