"""The Items tab's first answer to a query: its first page and, where it is cheap, its count.

A word search's condition is a semi-join over the word index's postings; for a common word
(in most items) building it is most of the query's cost. Asked as two statements (a count,
then a top-N), DuckDB built it twice. Here the matching (id, sort key) pairs are
materialized once and both the count and the top-N read them: about half the CPU for a
word in every item (bench/gui_items.py). A query without words keeps the two plain
statements, whose count DuckDB answers from its statistics.

A word in most items is answered without its postings: the first items of the other
filters in display order are read (a top-N), and only they are looked up in the word
index; when enough of them match, those are the first page, exactly (every match left out
comes after them in the order). Its count is not known then (a million postings cost a
full semi-join, ~140 ms CPU at 1M items); the table shows "200+" and takes the exact count
from the ordered id list it reads next in the background, as a result list in Label
Studio or FiftyOne fills its count in after the first rows.
"""

from __future__ import annotations

import math

from core.store import item_table, search_index
from core.store.db import Database
from core.store.item_table import ItemQuery, ItemRow

# The first page without the count when the rarest word has this many postings and they
# are at least this share of the items: below, the exact one-pass answer is cheap anyway.
DENSE_POSTINGS = 50_000
DENSE_SHARE = 0.2
# Candidates read: the page over the rarest word's share, twice over; then GROW times more,
# then the exact answer (the word was common but the other words or filters are not).
TRIES, GROW = 2, 8


def first_page(db: Database, q: ItemQuery, limit: int) -> tuple[int | None, list[ItemRow]]:
    """(how many items match `q`, or None when that is not known yet; its first `limit`
    rows in its order, exactly)."""
    if q.text.strip():
        found = search_index.terms(db, q.text)
        if found and found[0].postings >= DENSE_POSTINGS:
            total = db.scalar("SELECT count(*) FROM instructions")
            share = min(1.0, found[0].postings / max(total, 1))
            if share >= DENSE_SHARE:
                got = _capped(db, q, found, limit, share)
                if got is not None:
                    return got
    return count_and_first_rows(db, q, limit)


def _capped(db: Database, q: ItemQuery, found, limit: int, share: float):
    sort, order = item_table._order(q)
    join = " JOIN images i ON i.id = n.image_id" if sort.needs_image else ""
    where, params = item_table._where(db, q.with_(text=""))  # the other filters
    sql = f"SELECT n.id FROM instructions n{join}{where} ORDER BY {order} LIMIT ?"
    want = math.ceil(limit / share * 2)
    for _ in range(TRIES):
        ids = [r[0] for r in db.cursor().execute(sql, [*params, want]).fetchall()]
        hits = search_index.among(db, found, ids)
        ordered = [i for i in ids if i in hits]
        if len(ids) < want:  # every item of the other filters was a candidate: all known
            return len(ordered), _rows(db, ordered[:limit])
        if len(ordered) >= limit:
            return None, _rows(db, ordered[:limit])
        want *= GROW
    return None


def _rows(db: Database, ids: list[int]) -> list[ItemRow]:
    return [r for r in item_table.rows_for(db, ids) if r is not None]


def count_and_first_rows(db: Database, q: ItemQuery, limit: int) -> tuple[int, list[ItemRow]]:
    """(how many items match `q`, the first `limit` of them in its order)."""
    if not q.text.strip():
        return item_table.count_items(db, q), item_table.first_rows(db, q, limit)
    sort, _order = item_table._order(q)
    way = "DESC" if q.descending else "ASC"
    join = " JOIN images i ON i.id = n.image_id" if sort.needs_image else ""
    where, params = item_table._where(db, q)
    sql = (
        f"WITH m AS MATERIALIZED (SELECT n.id AS id, {sort.expr} AS k "
        f"FROM instructions n{join}{where}) "
        "SELECT (SELECT count(*) FROM m), "
        f"(SELECT list(id ORDER BY k {way} NULLS LAST, id {way}) FROM "
        f"(SELECT id, k FROM m ORDER BY k {way} NULLS LAST, id {way} LIMIT ?))"
    )
    count, ids = db.cursor().execute(sql, [*params, limit]).fetchone()
    rows = item_table.rows_for(db, ids or [])
    return count, [r for r in rows if r is not None]
