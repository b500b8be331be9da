"""The word index behind the review search (migration 047): which items hold which words.

A search term matches an item when every one of its words begins a word of the item's
question, options or answer (case-insensitive; each CJK character is a word of its own, so
"猫" finds "一只猫"). A scan with ILIKE over a million items costs a few hundred ms; the index
answers from the small vocabulary and the postings of the words found there.

The index follows the instructions table by itself: `refresh()` runs before every search and
indexes the items updated since the last refresh whose text changed (a hash per item tells a
text edit from a status change), so edits, imports, regenerations and find-and-replace need
no hook of their own. Deleted items leave postings behind that match no instruction row (ids
are never reused), so they are harmless.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from core.store.db import Database

# A word: one CJK character, or a run of letters/digits that are not CJK.
_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
WORD_PATTERN = rf"[{_CJK}]|[^\s\p{{P}}\p{{S}}{_CJK}]+"
_TEXT = "n.question || ' ' || coalesce(array_to_string(n.options, ' '), '') || ' ' || n.answer"
# Items updated this long before the last refresh began are looked at again: a transaction
# that committed after the refresh read the table carries its own, older, start time.
MARGIN = timedelta(seconds=30)
_WATERMARK_KEY = "search_index_at"
MAX_RUNS = 32  # more id runs than this: one list instead of ranges
# One refresh at a time per database file: two would index the same rows twice.
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(db: Database) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(db.path), threading.Lock())


def words(db: Database, text: str) -> list[str]:
    """The search words of `text`, as the index splits them, in order, without repeats."""
    got = db.scalar("SELECT regexp_extract_all(lower(?), ?)", [text or "", WORD_PATTERN])
    return list(dict.fromkeys(got or []))


def _state(db: Database) -> tuple:
    """What tells a change apart, in one scan of updated_at: any insert, delete or update
    (a late commit with an old stamp too) changes the count or the sum of the stamps."""
    return db.fetchone(
        "SELECT count(*), max(updated_at), sum(epoch_us(updated_at)) FROM instructions"
    )


# Per database file: the state after its last refresh (nothing changed since: no work).
_seen: dict[str, tuple] = {}


def refresh(db: Database) -> int:
    """Index the items whose text changed since the last refresh; returns how many."""
    with _lock(db):
        state = _state(db)
        if _seen.get(str(db.path)) == state:
            return 0
        n = _refresh(db)
        _seen[str(db.path)] = _state(db)
    return n


def _refresh(db: Database) -> int:
    with db.tx() as cur:
        mark = cur.execute("SELECT value FROM meta WHERE key = ?", [_WATERMARK_KEY]).fetchone()
        began = cur.execute("SELECT current_timestamp::TIMESTAMP").fetchone()[0]
        since = "true"
        params: list = []
        if mark is not None:
            since = "n.updated_at >= ?::TIMESTAMP - ?"
            params = [mark[0], MARGIN]
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE search_cands AS SELECT n.id, hash({_TEXT}) AS h, "
            f"{_TEXT} AS text FROM instructions n WHERE {since}",
            params,
        )
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE search_changed AS "
            "SELECT c.id, c.h, c.text, s.item_id IS NOT NULL AS was_indexed FROM search_cands c "
            "LEFT JOIN search_items s ON s.item_id = c.id WHERE s.text_hash IS DISTINCT FROM c.h"
        )
        cur.execute("DROP TABLE search_cands")
        n, reindexed = cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE was_indexed) FROM search_changed"
        ).fetchone()
        if n:
            _index_changed(cur, reindexed > 0)
        cur.execute("DROP TABLE search_changed")
        cur.execute("DELETE FROM meta WHERE key = ?", [_WATERMARK_KEY])
        cur.execute("INSERT INTO meta VALUES (?, ?)", [_WATERMARK_KEY, str(began)])
    return n


def _index_changed(cur, drop_old: bool) -> None:
    if drop_old:
        cur.execute(
            "DELETE FROM search_postings WHERE item_id IN "
            "(SELECT id FROM search_changed WHERE was_indexed)"
        )
        cur.execute(
            "DELETE FROM search_items WHERE item_id IN "
            "(SELECT id FROM search_changed WHERE was_indexed)"
        )
    cur.execute("INSERT INTO search_items SELECT id, h FROM search_changed")
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE search_new AS SELECT DISTINCT id AS item_id, token "
        "FROM (SELECT id, unnest(regexp_extract_all(lower(text), ?)) AS token FROM search_changed)",
        [WORD_PATTERN],
    )
    # New words get ids in word order, so the words sharing a prefix sit in a few id runs
    # and their postings (stored in id order) in a few row groups.
    cur.execute(
        "INSERT INTO search_vocab (id, token) "
        "SELECT (SELECT coalesce(max(id), 0) FROM search_vocab) + row_number() OVER (ORDER BY token), "
        "token FROM (SELECT DISTINCT token FROM search_new "
        "WHERE token NOT IN (SELECT token FROM search_vocab)) ORDER BY token"
    )
    cur.execute(
        "UPDATE search_vocab SET df = df + c.n FROM (SELECT token, count(*) AS n FROM search_new "
        "GROUP BY token) c WHERE c.token = search_vocab.token"
    )
    cur.execute(
        "INSERT INTO search_postings SELECT v.id, t.item_id "
        "FROM search_new t JOIN search_vocab v ON v.token = t.token ORDER BY v.id, t.item_id"
    )
    cur.execute("DROP TABLE search_new")


def _runs(ids: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _after_prefix(prefix: str) -> str:
    """The smallest string above every string that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True)
class Term:
    """One search word as the index holds it: the postings condition of the words it begins
    (on `token_id`), and how many postings they have (an upper bound of its items)."""

    postings: int
    cond: str
    params: list


# (file, text) -> (index state, terms): a query's first page, count and id list ask for the
# same text one after the other.
_plans: dict[tuple[str, str], tuple] = {}


def terms(db: Database, text: str) -> list[Term] | None:
    """The words of `text`, rarest first; None when `text` has no words, [] when one of them
    begins no indexed word (nothing matches). Refreshes the index first."""
    refresh(db)
    key = (str(db.path), text)
    state = _seen.get(str(db.path))
    memo = _plans.get(key)
    if memo is not None and memo[0] == state:
        return memo[1]
    found = _terms(db, text)
    if len(_plans) > 64:
        _plans.clear()
    _plans[key] = (state, found)
    return found


def _terms(db: Database, text: str) -> list[Term] | None:
    got = words(db, text)
    if not got:
        return None
    found = []
    for term in got:
        # A range on the (sorted) words lets DuckDB skip most of the vocabulary.
        rows = db.fetchall(
            "SELECT id, df FROM search_vocab WHERE token >= ? AND token < ? "
            "AND starts_with(token, ?) ORDER BY id",
            [term, _after_prefix(term), term],
        )
        if not rows:
            return []
        ids = [r[0] for r in rows]
        runs = _runs(ids)
        if len(runs) <= MAX_RUNS:
            # Ranges of ids let DuckDB skip the postings row groups outside them.
            cond = " OR ".join("token_id BETWEEN ? AND ?" for _ in runs)
            params = [v for run in runs for v in run]
        else:
            cond = "token_id IN (SELECT unnest(?::INTEGER[]))"
            params = [ids]
        found.append(Term(sum(r[1] for r in rows), f"({cond})", params))
    found.sort(key=lambda f: f.postings)
    return found


def match_clause(db: Database, text: str) -> tuple[str, list] | None:
    """(SQL condition on the instructions row `n`, params) true for the items matching
    `text`; None when `text` has no words. Refreshes the index first."""
    found = terms(db, text)
    if found is None:
        return None
    if not found:
        return "false", []
    # Rarest first: each further word's postings are read only to probe the (small) set of
    # items left so far, never hashed whole (a word in every item would cost a scan).
    inner, params = f"SELECT item_id FROM search_postings WHERE {found[0].cond}", found[0].params
    for term in found[1:]:
        inner = f"SELECT item_id FROM search_postings WHERE {term.cond} AND item_id IN ({inner})"
        params = list(term.params) + params
    return f"n.id IN ({inner})", params


def among(db: Database, found: list[Term], ids: Sequence[int]) -> set[int]:
    """The ids among `ids` (a few thousand at most) whose items hold every word of `found`
    (terms()' answer): each word's postings probed for just these ids, so a word in every
    item costs no more than a rare one (core.store.item_pages' first page of a common word)."""
    left = {int(i) for i in ids}
    for term in found:
        if not left:
            break
        got = db.fetchall(
            f"SELECT DISTINCT item_id FROM search_postings WHERE {term.cond} "
            "AND item_id IN (SELECT unnest(?::BIGINT[]))",
            [*term.params, sorted(left)],
        )
        left = {r[0] for r in got}
    return left


def matching_ids(db: Database, text: str) -> list[int]:
    """Ids of the items matching `text`, ascending (tests and the CLI)."""
    clause = match_clause(db, text)
    if clause is None:
        return []
    sql, params = clause
    return [
        r[0] for r in db.fetchall(f"SELECT n.id FROM instructions n WHERE {sql} ORDER BY 1", params)
    ]
