"""The Items tab's one-pass count and first page (core.store.item_pages) answers exactly what
the count and the top-N asked apart answer, for every sort, both ways, with and without
words, on a real project."""

from __future__ import annotations

import pytest

from core.store import item_pages, item_table
from core.store.item_table import SORTS, ItemQuery
from tests.review_data import populate


@pytest.fixture
def proj(project):
    populate(project, n_images=12, files=True)
    return project


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize("descending", [False, True])
def test_same_as_count_then_first_rows(proj, sort, descending):
    db = proj.db
    words = [r[0] for r in db.fetchall("SELECT question FROM instructions LIMIT 1")][0].split()
    texts = ["", words[0], " ".join(words[:2]), "zzzznothing"]
    for text in texts:
        q = ItemQuery(text=text, sort=sort, descending=descending)
        count, rows = item_pages.count_and_first_rows(db, q, 5)
        assert count == item_table.count_items(db, q)
        assert rows == item_table.first_rows(db, q, 5)
        assert len(rows) == min(5, count)
    assert item_pages.count_and_first_rows(db, ItemQuery(text=words[0]), 5)[0] > 0
