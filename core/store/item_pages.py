"""The Items tab's first answer to a query: its count and its first page, in one pass.

A word search's condition is a semi-join over the word index's postings; for a common word
(in most items) building it is most of the query's cost. Asked as two statements (a count,
then a top-N), DuckDB built it twice. Here the matching (id, sort key) pairs are
materialized once and both the count and the top-N read them: about half the CPU for a
word in every item (bench/gui_items.py). A query without words keeps the two plain
statements, whose count DuckDB answers from its statistics.
"""

from __future__ import annotations

from core.store import item_table
from core.store.db import Database
from core.store.item_table import ItemQuery, ItemRow


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
