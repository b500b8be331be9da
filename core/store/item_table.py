"""Read side of the instruction table: items across images, filtered, sorted, a page at a time.

The table never holds the items in Python. A filter gives a count and its first page at once
(DuckDB's top-N over the sort: no full sort, so a sort switch over a million items costs the
same as its first page); the ordered ids (8 bytes each) come next, off the GUI thread, so that
later pages are primary-key lookups at stable positions while the reviewer decides items that
then leave the filter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.store import search_index
from core.store.browse import ANY_FLAG, NO_DOMAIN, ImageQuery
from core.store.db import Database
from core.vocab import MACHINE_STATUSES

UNDECIDED = "__undecided__"  # status value: new, ok or needs_review
FETCH_ROWS = 500  # rows turned into Python objects per fetch call (rows_for)


@dataclass(frozen=True)
class ItemQuery:
    """What the instruction table shows. None (or "" for text) means "no constraint"."""

    domain: str | None = None  # NO_DOMAIN: items of images without a domain
    itype: str | None = None
    status: str | None = None  # an item status, or UNDECIDED
    check_flag: str | None = None  # ANY_FLAG: at least one
    disagree: bool = False  # the image verifier answered differently
    origin: str | None = None
    min_risk: float | None = None  # risk at or above this
    image_id: int | None = None
    text: str = ""  # words of the question, options or answer (core.store.search_index)
    sort: str = "risk"
    descending: bool = True

    def with_(self, **changes) -> ItemQuery:
        return replace(self, **changes)


@dataclass(frozen=True)
class ItemSort:
    expr: str
    needs_image: bool = False  # the expression reads the image row (alias i)


# Sort keys by column; ties break by id in the same direction.
SORTS: dict[str, ItemSort] = {
    "id": ItemSort("n.id"),
    "image": ItemSort("n.image_id"),
    "domain": ItemSort("i.domain", needs_image=True),
    "itype": ItemSort("n.itype"),
    "status": ItemSort("n.status"),
    "risk": ItemSort("n.risk"),
    "flags": ItemSort("nullif(array_to_string(n.check_flags, ', '), '')"),
    "question": ItemSort("n.question"),
}


def _domain(q: ItemQuery):
    if q.domain is None:
        return None
    if q.domain == NO_DOMAIN:
        return "n.image_id IN (SELECT id FROM images WHERE domain IS NULL OR domain = '')", []
    return "n.image_id IN (SELECT id FROM images WHERE domain = ?)", [q.domain]


def _status(q: ItemQuery):
    if q.status is None:
        return None
    if q.status == UNDECIDED:
        return "list_contains(?, n.status)", [list(MACHINE_STATUSES)]
    return "n.status = ?", [q.status]


def _flag(q: ItemQuery):
    if not q.check_flag:
        return None
    if q.check_flag == ANY_FLAG:
        return "len(n.check_flags) > 0", []
    return "list_contains(n.check_flags, ?)", [q.check_flag]


def _equal(column: str, attr: str):
    def clause(q: ItemQuery):
        value = getattr(q, attr)
        return None if value is None else (f"{column} = ?", [value])

    return clause


# Registry of filter clauses: each turns the query into (sql, params) or None. The text
# clause needs the database (it reads the word index), so it is applied in _where.
FILTERS: list[Callable[[ItemQuery], tuple[str, list] | None]] = [
    _domain,
    _equal("n.itype", "itype"),
    _status,
    _flag,
    lambda q: ("n.verify_agree = false", []) if q.disagree else None,
    _equal("n.origin", "origin"),
    lambda q: None if q.min_risk is None else ("n.risk >= ?", [q.min_risk]),
    _equal("n.image_id", "image_id"),
]


def _where(db: Database, q: ItemQuery) -> tuple[str, list]:
    parts, params = [], []
    found = [clause(q) for clause in FILTERS]
    if q.text.strip():
        found.append(search_index.match_clause(db, q.text))
    for got in found:
        if got:
            parts.append(f"({got[0]})")
            params.extend(got[1])
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def _order(q: ItemQuery) -> tuple[ItemSort, str]:
    sort = SORTS.get(q.sort)
    if sort is None:
        raise ValueError(f"unknown sort {q.sort!r}; known: {', '.join(SORTS)}")
    way = "DESC" if q.descending else "ASC"
    return sort, f"{sort.expr} {way} NULLS LAST, n.id {way}"


def count_items(db: Database, q: ItemQuery) -> int:
    where, params = _where(db, q)
    return db.cursor().execute(f"SELECT count(*) FROM instructions n{where}", params).fetchone()[0]


def item_ids(db: Database, q: ItemQuery) -> np.ndarray:
    """Ids of the matching items in the query's order (int64 array)."""
    sort, order = _order(q)
    join = " JOIN images i ON i.id = n.image_id" if sort.needs_image else ""
    where, params = _where(db, q)
    sql = f"SELECT n.id FROM instructions n{join}{where} ORDER BY {order}"
    return db.cursor().execute(sql, params).fetchnumpy()["id"].astype(np.int64, copy=False)


@dataclass(frozen=True)
class ItemRow:
    """One table row."""

    id: int
    image_id: int
    domain: str | None
    itype: str
    lang: str
    status: str
    risk: float | None
    check_flags: list[str]
    question: str
    options: list[str] | None
    answer: str
    origin: str
    verify_agree: bool | None


_COLS = (
    "n.id, n.image_id, i.domain, n.itype, n.lang, n.status, n.risk, "
    "coalesce(n.check_flags, []), n.question, n.options, n.answer, n.origin, n.verify_agree"
)


def _row(r) -> ItemRow:
    return ItemRow(*r[:7], list(r[7]), r[8], list(r[9]) if r[9] is not None else None, *r[10:])


def first_rows(db: Database, q: ItemQuery, limit: int, offset: int = 0) -> list[ItemRow]:
    """Rows `offset`..`offset + limit` of the query, straight from a top-N (no full sort):
    the ids first (the image table joined only when the sort reads it), then their rows."""
    sort, order = _order(q)
    join = " JOIN images i ON i.id = n.image_id" if sort.needs_image else ""
    where, params = _where(db, q)
    sql = f"SELECT n.id FROM instructions n{join}{where} ORDER BY {order} LIMIT ? OFFSET ?"
    ids = [r[0] for r in db.cursor().execute(sql, [*params, limit, offset]).fetchall()]
    return [r for r in rows_for(db, ids) if r is not None]


def rows_for(db: Database, ids: Sequence[int]) -> list[ItemRow | None]:
    """The rows of `ids`, in the same order; None for an id no longer in the table."""
    ids = [int(i) for i in ids]
    if not ids:
        return []
    got = db.cursor().execute(
        f"SELECT {_COLS} FROM instructions n JOIN images i ON i.id = n.image_id "
        "WHERE n.id IN (SELECT unnest(?::BIGINT[]))",
        [ids],
    )
    # A slice of rows per call: each call holds the GIL while it makes the Python rows, and
    # the table re-reads every cached row (up to 8,000) after a run over the whole project.
    by_id = {}
    while rows := got.fetchmany(FETCH_ROWS):
        by_id.update((r[0], _row(r)) for r in rows)
    return [by_id.get(i) for i in ids]


def risky_left(db: Database, threshold: float) -> int:
    """Undecided items at or above `threshold` (the status bar's "risky left")."""
    return db.scalar(
        "SELECT count(*) FROM instructions WHERE risk >= ? AND list_contains(?, status)",
        [threshold, list(MACHINE_STATUSES)],
    )


def grid_matches(db: Database, image_id: int, q: ImageQuery) -> list[int] | None:
    """The items of one image that match the item parts of the grid's filter (type, item
    status, check flag, verify disagreement, text as the grid searches it: a substring of the
    question, an option or the answer); None when the filter has no item part. The review
    pane narrows its cards to these."""
    parts, params = [], []
    for cond, value in (("itype = ?", q.itype), ("status = ?", q.item_status)):
        if value is not None:
            parts.append(cond)
            params.append(value)
    if q.check_flag == ANY_FLAG:
        parts.append("len(check_flags) > 0")
    elif q.check_flag:
        parts.append("list_contains(check_flags, ?)")
        params.append(q.check_flag)
    if q.disagree:
        parts.append("verify_agree = false")
    needle = q.text.strip().lower()
    if needle:
        parts.append(
            "(contains(lower(question), ?) OR contains(lower(answer), ?) "
            "OR contains(lower(coalesce(array_to_string(options, ' '), '')), ?))"
        )
        params += [needle] * 3
    if not parts:
        return None
    sql = "SELECT id FROM instructions WHERE image_id = ? AND " + " AND ".join(parts)
    return [r[0] for r in db.fetchall(sql + " ORDER BY id", [image_id, *params])]
