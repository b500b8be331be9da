"""The Items tab's one-pass count and first page (core.store.item_pages) answers exactly what
the count and the top-N asked apart answer, for every sort, both ways, with and without
words, on a real project."""

from __future__ import annotations

import pytest

from core.store import item_pages, item_table, search_index
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


@pytest.fixture
def common_word(project):
    """600 items on 60 images: nine in ten say "picture", the others "item"; risk, status and
    type spread so that every sort has ties and the filters cut across the words."""
    db = project.db
    with db.tx() as cur:
        cur.execute(
            "INSERT INTO images (sha256, width, height, format, domain, storage, path) "
            "SELECT sha256(r::VARCHAR), 10, 10, 'PNG', ['art', 'science', NULL][1 + r % 3], "
            "'copy', 'media/' || r || '.png' FROM range(60) t(r)"
        )
        cur.execute(
            "INSERT INTO instructions (image_id, itype, lang, question, answer, status, risk) "
            "SELECT (SELECT min(id) FROM images) + r % 60, "
            "['judgement', 'short_vqa', 'long_vqa'][1 + r % 3], 'en', "
            "CASE WHEN r % 10 = 0 THEN 'Question ' || r || ': a sentence about item ' || r % 7 "
            "ELSE 'Question ' || r || ': what does the picture show?' END, 'An answer', "
            "['new', 'ok', 'accepted', 'rejected'][1 + (r * 7) % 4], "
            "CASE WHEN r % 5 = 0 THEN NULL ELSE (r * 37 % 100) / 100.0 END FROM range(600) t(r)"
        )
    return project


def test_common_word_first_page_is_exact_without_its_count(common_word, monkeypatch):
    """A word in most items: the first page comes from the top of the display order checked
    against the index (no full semi-join), and is the exact first page; the count is either
    exact (every candidate seen) or None (it comes with the id list)."""
    db = common_word.db
    monkeypatch.setattr(item_pages, "DENSE_POSTINGS", 0)  # 600 items count as many
    answers = []
    for text in ["picture", "pict", "picture question", "what show", "item", "picture item"]:
        for sort in sorted(SORTS):
            for descending in (False, True):
                for extra in ({}, {"status": "ok"}, {"itype": "long_vqa", "min_risk": 0.5}):
                    q = ItemQuery(text=text, sort=sort, descending=descending, **extra)
                    count, rows = item_pages.first_page(db, q, 25)
                    assert rows == item_table.first_rows(db, q, 25), q
                    assert count in (None, item_table.count_items(db, q)), q
                    answers.append(count)
    assert None in answers  # the capped first page ran, its count left for later
    monkeypatch.setattr(item_pages, "DENSE_POSTINGS", 10**9)
    q = ItemQuery(text="picture")
    assert item_pages.first_page(db, q, 25)[0] == item_table.count_items(db, q) == 540


def test_common_word_reads_no_postings_whole(common_word, monkeypatch):
    """The capped first page never asks for the word's whole match (the semi-join that cost
    ~140 ms CPU at 1M items): match_clause is not called."""
    db = common_word.db
    monkeypatch.setattr(item_pages, "DENSE_POSTINGS", 0)
    expect = item_table.first_rows(db, ItemQuery(text="picture"), 25)

    def whole(*_a, **_k):
        raise AssertionError("the word's whole match was built")

    monkeypatch.setattr(search_index, "match_clause", whole)
    count, rows = item_pages.first_page(db, ItemQuery(text="picture"), 25)
    assert count is None and rows == expect
