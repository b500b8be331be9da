"""Read side of the review GUI: filtered image lists, pages of rows, one image's details.

A filter resolves to the ordered ids of the matching images (8 bytes each; 100k images is
0.8 MB and one query of a few ms). Positions are then stable while a person reviews (accepting
an image under "status = new" does not shift the rows under the cursor), the count is free, and
a page of rows is a primary-key lookup that costs the same at row 0 and row 99,999, whatever the
filter cost. Row data (paths, counts) is only ever fetched a page at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

import numpy as np

from core.store.db import Database

ANY_FLAG = "*"  # check_flag value meaning "at least one failed check"
NO_DOMAIN = ""  # domain value meaning "images without a domain"


@dataclass(frozen=True)
class ImageQuery:
    """What the grid shows. None (or "" for text) means "no constraint"."""

    domain: str | None = None  # NO_DOMAIN selects images without one
    status: str | None = None  # image status
    itype: str | None = None  # has an instruction of this type
    item_status: str | None = None  # has an instruction in this status
    check_flag: str | None = None  # has an instruction failing this check (ANY_FLAG: any)
    disagree: bool = False  # has an instruction the verify stage answered differently
    has_caption: bool | None = None
    text: str = ""  # in the current caption, a question or an answer (case-insensitive)
    sort: str = "imported"

    def with_(self, **changes) -> ImageQuery:
        return replace(self, **changes)


@dataclass(frozen=True)
class Sort:
    label: str
    join: str  # extra FROM clause, aliases the image table as i
    order: str


# Registry of sort orders; the GUI lists them in this order.
SORTS: dict[str, Sort] = {
    "imported": Sort("Import order", "", "i.id"),
    "newest": Sort("Newest first", "", "i.id DESC"),
    "domain": Sort("Domain", "", "i.domain NULLS LAST, i.id"),
    "status": Sort("Image status", "", "i.status, i.id"),
    "flags": Sort(
        "Most check flags",
        "LEFT JOIN (SELECT image_id, count(*) AS n FROM instructions "
        "WHERE len(check_flags) > 0 GROUP BY image_id) f ON f.image_id = i.id",
        "coalesce(f.n, 0) DESC, i.id",
    ),
    "items": Sort(
        "Most instructions",
        "LEFT JOIN (SELECT image_id, count(*) AS n FROM instructions GROUP BY image_id) c "
        "ON c.image_id = i.id",
        "coalesce(c.n, 0) DESC, i.id",
    ),
}


def _items_with(cond: str) -> str:
    return f"i.id IN (SELECT image_id FROM instructions WHERE {cond})"


def _domain(q: ImageQuery):
    if q.domain is None:
        return None
    if q.domain == NO_DOMAIN:
        return "i.domain IS NULL OR i.domain = ''", []
    return "i.domain = ?", [q.domain]


def _check_flag(q: ImageQuery):
    if not q.check_flag:
        return None
    if q.check_flag == ANY_FLAG:
        return _items_with("len(check_flags) > 0"), []
    return _items_with("list_contains(check_flags, ?)"), [q.check_flag]


def _has_caption(q: ImageQuery):
    if q.has_caption is None:
        return None
    sql = "i.id IN (SELECT image_id FROM captions WHERE is_current)"
    return (sql if q.has_caption else f"NOT ({sql})"), []


def _text(q: ImageQuery):
    needle = q.text.strip().lower()
    if not needle:
        return None
    if any(c in needle for c in "%_\\"):
        # Wildcard characters stay literal: contains() on lowered text (about 2x slower).
        match, arg = "contains(lower({col}), ?)", needle
    else:
        # ILIKE without an ESCAPE clause takes DuckDB's fast path (~45 ms over 1M rows).
        match, arg = "{col} ILIKE ?", f"%{needle}%"
    return (
        _items_with(f"{match.format(col='question')} OR {match.format(col='answer')}")
        + " OR i.id IN (SELECT image_id FROM captions WHERE is_current"
        f" AND {match.format(col='text')})",
        [arg, arg, arg],
    )


def _simple(column: str, attr: str):
    def clause(q: ImageQuery):
        value = getattr(q, attr)
        return None if value is None else (f"{column} = ?", [value])

    return clause


# Registry of filter clauses: each turns the query into (sql, params) or None.
FILTERS: list[Callable[[ImageQuery], tuple[str, list] | None]] = [
    _domain,
    _simple("i.status", "status"),
    lambda q: None if q.itype is None else (_items_with("itype = ?"), [q.itype]),
    lambda q: None if q.item_status is None else (_items_with("status = ?"), [q.item_status]),
    _check_flag,
    lambda q: (_items_with("verify_agree = false"), []) if q.disagree else None,
    _has_caption,
    _text,
]


def _where(q: ImageQuery) -> tuple[str, list]:
    parts, params = [], []
    for clause in FILTERS:
        got = clause(q)
        if got:
            parts.append(f"({got[0]})")
            params.extend(got[1])
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def image_ids(db: Database, query: ImageQuery) -> np.ndarray:
    """Ids of the images matching `query`, in its sort order (int64 array)."""
    sort = SORTS.get(query.sort)
    if sort is None:
        raise ValueError(f"unknown sort {query.sort!r}; known: {', '.join(SORTS)}")
    where, params = _where(query)
    sql = f"SELECT i.id FROM images i {sort.join}{where} ORDER BY {sort.order}"
    return db.cursor().execute(sql, params).fetchnumpy()["id"].astype(np.int64, copy=False)


def count_images(db: Database, query: ImageQuery) -> int:
    where, params = _where(query)
    return db.cursor().execute(f"SELECT count(*) FROM images i{where}", params).fetchone()[0]


@dataclass(frozen=True)
class ImageRow:
    """One grid tile."""

    id: int
    sha256: str
    domain: str | None
    status: str
    thumb: str | None  # relative to the project folder
    width: int | None
    height: int | None
    n_items: int
    n_flagged: int
    n_disagree: int
    n_decided: int
    has_caption: bool


_ROW_SQL = """
WITH agg AS (
    SELECT image_id, count(*) AS n,
           count(*) FILTER (WHERE len(check_flags) > 0) AS flagged,
           count(*) FILTER (WHERE verify_agree = false) AS disagree,
           count(*) FILTER (WHERE status IN ('accepted', 'rejected', 'needs_fix')) AS decided
    FROM instructions WHERE image_id IN (SELECT unnest($1::BIGINT[])) GROUP BY image_id
),
cap AS (SELECT DISTINCT image_id FROM captions
        WHERE is_current AND image_id IN (SELECT unnest($1::BIGINT[])))
SELECT i.id, i.sha256, i.domain, i.status, i.thumb, i.width, i.height,
       coalesce(agg.n, 0), coalesce(agg.flagged, 0), coalesce(agg.disagree, 0),
       coalesce(agg.decided, 0), cap.image_id IS NOT NULL
FROM (SELECT * FROM images WHERE id IN (SELECT unnest($1::BIGINT[]))) i
LEFT JOIN agg ON agg.image_id = i.id LEFT JOIN cap ON cap.image_id = i.id
"""


def page_rows(db: Database, ids: Sequence[int]) -> list[ImageRow]:
    """The grid rows for `ids`, in the same order; ids no longer in the table are left out."""
    ids = [int(i) for i in ids]
    if not ids:
        return []
    by_id = {r[0]: ImageRow(*r) for r in db.cursor().execute(_ROW_SQL, [ids]).fetchall()}
    return [by_id[i] for i in ids if i in by_id]


def domain_counts(db: Database) -> list[tuple[str, int]]:
    """(domain, images) for every domain in the taxonomy or in use; NO_DOMAIN for none."""
    return [(name, n) for name, _title, n in domain_entries(db)]


def domain_entries(db: Database) -> list[tuple[str, str, int]]:
    """(domain, title, images) as domain_counts orders them; the title is the name when the
    domain has none (or is not in the taxonomy), '' for NO_DOMAIN."""
    rows = (
        db.cursor()
        .execute(
            """
        SELECT coalesce(d.name, u.domain, '') AS name,
               coalesce(nullif(trim(d.title), ''), d.name, u.domain, ''), coalesce(u.n, 0)
        FROM domains d
        FULL OUTER JOIN (SELECT coalesce(domain, '') AS domain, count(*) AS n
                         FROM images GROUP BY 1) u ON u.domain = d.name
        ORDER BY d.position NULLS LAST, name
        """
        )
        .fetchall()
    )
    return [(name, title, n) for name, title, n in rows]


def check_flag_names(db: Database) -> list[str]:
    """Every check flag present on some instruction, sorted."""
    rows = (
        db.cursor()
        .execute("SELECT DISTINCT unnest(check_flags) AS f FROM instructions ORDER BY f")
        .fetchall()
    )
    return [r[0] for r in rows if r[0]]


@dataclass(frozen=True)
class ImageDetail:
    id: int
    sha256: str
    domain: str | None
    status: str
    storage: str
    path: str
    thumb: str | None
    width: int | None
    height: int | None
    format: str | None
    bytes: int | None
    title: str | None
    license: str | None
    source_url: str | None


def image_detail(db: Database, image_id: int) -> ImageDetail | None:
    cols = ", ".join(f.name for f in fields(ImageDetail))
    row = db.cursor().execute(f"SELECT {cols} FROM images WHERE id = ?", [image_id]).fetchone()
    return ImageDetail(*row) if row else None


@dataclass(frozen=True)
class CaptionVersion:
    id: int
    version: int
    text: str
    lang: str | None
    model: str | None
    origin: str | None
    is_current: bool
    created_at: datetime | None


def caption_versions(db: Database, image_id: int) -> list[CaptionVersion]:
    """All caption versions of an image, newest version first."""
    cols = ", ".join(f.name for f in fields(CaptionVersion))
    rows = (
        db.cursor()
        .execute(
            f"SELECT {cols} FROM captions WHERE image_id = ? ORDER BY version DESC, id DESC",
            [image_id],
        )
        .fetchall()
    )
    return [CaptionVersion(*r) for r in rows]


@dataclass(frozen=True)
class Instruction:
    id: int
    image_id: int
    itype: str
    lang: str
    question: str
    options: list[str] | None
    answer: str
    origin: str
    status: str
    check_flags: list[str] = field(default_factory=list)
    check_messages: list[str] = field(default_factory=list)
    verify_answer: str | None = None
    verify_agree: bool | None = None
    conversation_id: int | None = None
    round: int | None = None
    model: str | None = None


def instructions_for_image(db: Database, image_id: int) -> list[Instruction]:
    """An image's instructions, ordered by conversation and round, then by id."""
    cols = ", ".join(f.name for f in fields(Instruction))
    rows = (
        db.cursor()
        .execute(
            f"SELECT {cols} FROM instructions WHERE image_id = ? "
            "ORDER BY coalesce(conversation_id, id), coalesce(round, 0), id",
            [image_id],
        )
        .fetchall()
    )
    out = []
    for r in rows:
        item = Instruction(*r)
        out.append(
            replace(
                item, check_flags=item.check_flags or [], check_messages=item.check_messages or []
            )
        )
    return out
