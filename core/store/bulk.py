"""Bulk edits on a selection of images: decide them, move them to a domain.

A selection is either ids (an int64 array: the grid hands over its numpy id list, so
"everything matching the filter" at 100k images never becomes Python rows) or an
`ImageQuery`, resolved here in SQL. Old values are read in one query joined to the selection
and written by core.store.review_apply's batched path (one UPDATE joined to an Arrow table per
table and field), so every bulk edit is logged in `revisions` and undone like a single edit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from core.store import review
from core.store.browse import ImageQuery, _where
from core.store.db import Database
from core.store.review_change import Change, ReviewError
from core.store.temp_tables import SLICE_ROWS, fill_temp
from core.vocab import DECISIONS, IMAGE_STATUSES
from core.vocab import MACHINE_STATUSES as UNDECIDED

Selection = ImageQuery | Sequence[int] | np.ndarray
SEL = "bulk_sel"  # the selection as a temp table: one BIGINT column `id`
_SLICE = SLICE_ROWS  # ids bound per INSERT


def as_ids(selection) -> np.ndarray | None:
    """The selection's ids as int64, or None when it is a query."""
    if isinstance(selection, ImageQuery):
        return None
    return np.asarray(selection, dtype=np.int64).reshape(-1)


@contextmanager
def selected(cur, selection: Selection) -> Iterator[str]:
    """Make `selection` readable as the relation `bulk_sel(id)` on `cur` for the block."""
    ids = as_ids(selection)
    if ids is None:
        where, params = _where(selection)
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {SEL} AS SELECT i.id FROM images i{where}", params
        )
        try:
            yield SEL
        finally:
            cur.execute(f"DROP TABLE IF EXISTS {SEL}")
        return
    fill_temp(cur, SEL, [("id", "BIGINT")], [np.unique(ids)], _SLICE)
    try:
        yield SEL
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {SEL}")


def selection_ids(db: Database, selection: Selection) -> np.ndarray:
    """The existing image ids of a selection, sorted (int64)."""
    cur = db.cursor()
    with selected(cur, selection) as sel:
        got = cur.execute(
            f"SELECT i.id FROM images i JOIN {sel} s ON s.id = i.id ORDER BY i.id"
        ).fetchnumpy()
    return got["id"].astype(np.int64, copy=False)


def _changes(cur, sql: str, params: list, table: str, field: str, new) -> list[Change]:
    # Read in slices: converting 100k rows in one C call holds the GIL for its whole length,
    # and the GUI thread waits on it (the bulk edit runs on a worker thread).
    result = cur.execute(sql, params)
    changes: list[Change] = []
    while rows := result.fetchmany(4096):
        changes += [Change(table, i, field, o, new) for i, o in rows]
    return changes


def decide_images(
    db: Database,
    selection: Selection,
    status: str,
    author: str | None = None,
    cascade: bool = True,
) -> list[Change]:
    """Set every selected image's status; with `cascade`, a decision also applies to their
    undecided instructions (as set_image_status does for one image). One transaction."""
    if status not in IMAGE_STATUSES:
        raise ReviewError(f"unknown image status {status!r}")
    with db.tx() as cur, selected(cur, selection) as sel:
        changes = _changes(
            cur,
            f"SELECT i.id, i.status FROM images i JOIN {sel} s ON s.id = i.id "
            "WHERE i.status <> ? ORDER BY i.id",
            [status],
            "images",
            "status",
            status,
        )
        if cascade and status in DECISIONS:
            marks = ", ".join("?" for _ in UNDECIDED)
            changes += _changes(
                cur,
                f"SELECT t.id, t.status FROM instructions t JOIN {sel} s ON s.id = t.image_id "
                f"WHERE t.status IN ({marks}) ORDER BY t.id",
                list(UNDECIDED),
                "instructions",
                "status",
                status,
            )
        review.apply_in(cur, changes, author)
    return changes


def move_images(
    db: Database, selection: Selection, domain: str, author: str | None = None
) -> list[Change]:
    """Move the selected images into `domain` (an existing one)."""
    with db.tx() as cur:
        if cur.execute("SELECT 1 FROM domains WHERE name = ?", [domain]).fetchall() == []:
            raise ReviewError(f"no domain named {domain!r}")
        with selected(cur, selection) as sel:
            changes = _changes(
                cur,
                f"SELECT i.id, i.domain FROM images i JOIN {sel} s ON s.id = i.id "
                "WHERE i.domain IS DISTINCT FROM ? ORDER BY i.id",
                [domain],
                "images",
                "domain",
                domain,
            )
            review.apply_in(cur, changes, author)
    return changes
