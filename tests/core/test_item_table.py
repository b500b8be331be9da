"""The instruction table's store side: filters, sorts, pages, the word index, the risk queue,
items added by hand and regenerated in place, on the shared review project."""

from __future__ import annotations

import re

import pytest

from core.store import item_table, quality, review, search_index
from core.store.browse import ANY_FLAG, ImageQuery
from core.store.item_table import UNDECIDED, ItemQuery
from core.store.item_writes import CREATED, add_instruction, replace_item
from core.store.review_change import Change, ReviewError
from tests.review_data import populate


@pytest.fixture
def proj(project):
    populate(project, n_images=12, files=False)
    ids = [r[0] for r in project.db.fetchall("SELECT id FROM instructions ORDER BY id")]
    # A spread of risks, two unscored.
    quality.save_risk(project.db, [(i, round((i * 37 % 100) / 100, 2)) for i in ids[2:]])
    return project


def all_ids(db, where="true"):
    return [r[0] for r in db.fetchall(f"SELECT id FROM instructions WHERE {where} ORDER BY id")]


def test_rows_read_a_slice_at_a_time_are_the_same_rows(proj, monkeypatch):
    """rows_for fetches FETCH_ROWS rows per call (each call holds the GIL): same rows, same
    order, None for an id that is gone."""
    db = proj.db
    ids = all_ids(db)[::-1] + [10**9]
    whole = item_table.rows_for(db, ids)
    monkeypatch.setattr(item_table, "FETCH_ROWS", 3)
    assert item_table.rows_for(db, ids) == whole and whole[-1] is None
    assert [r.id for r in whole[:-1]] == ids[:-1] and len(ids) > 7


def test_sorts_match_sql_orders_and_pages_line_up(proj):
    db = proj.db
    expect = [
        r[0]
        for r in db.fetchall("SELECT id FROM instructions ORDER BY risk DESC NULLS LAST, id DESC")
    ]
    q = ItemQuery(sort="risk", descending=True)
    assert item_table.item_ids(db, q).tolist() == expect
    assert item_table.count_items(db, q) == len(expect)
    # top-N pages and id pages agree, at every offset
    for offset in (0, 5, 20):
        assert [r.id for r in item_table.first_rows(db, q, 5, offset)] == expect[
            offset : offset + 5
        ]
    assert [r.id for r in item_table.rows_for(db, expect[3:8])] == expect[3:8]
    by_type = item_table.item_ids(db, ItemQuery(sort="itype", descending=False)).tolist()
    assert by_type == [r[0] for r in db.fetchall("SELECT id FROM instructions ORDER BY itype, id")]
    by_domain = item_table.item_ids(db, ItemQuery(sort="domain", descending=False)).tolist()
    assert by_domain == [
        r[0]
        for r in db.fetchall(
            "SELECT n.id FROM instructions n JOIN images i ON i.id = n.image_id "
            "ORDER BY i.domain NULLS LAST, n.id"
        )
    ]
    with pytest.raises(ValueError):
        item_table.item_ids(db, ItemQuery(sort="nope"))


def test_filters(proj):
    db = proj.db
    q = ItemQuery()
    assert item_table.count_items(db, q.with_(itype="judgement")) == len(
        all_ids(db, "itype = 'judgement'")
    )
    assert item_table.count_items(db, q.with_(check_flag=ANY_FLAG)) == len(
        all_ids(db, "len(check_flags) > 0")
    )
    assert item_table.count_items(db, q.with_(check_flag="too_short")) == len(
        all_ids(db, "list_contains(check_flags, 'too_short')")
    )
    assert item_table.count_items(db, q.with_(disagree=True)) == len(
        all_ids(db, "verify_agree = false")
    )
    assert item_table.count_items(db, q.with_(min_risk=0.5)) == len(all_ids(db, "risk >= 0.5"))
    art = item_table.item_ids(db, q.with_(domain="art")).tolist()
    assert sorted(art) == [
        r[0]
        for r in db.fetchall(
            "SELECT n.id FROM instructions n JOIN images i ON i.id = n.image_id "
            "WHERE i.domain = 'art' ORDER BY n.id"
        )
    ]
    one = all_ids(db)[0]
    review.set_instruction_status(db, [one], "accepted")
    undecided = item_table.item_ids(db, q.with_(status=UNDECIDED)).tolist()
    assert one not in undecided and len(undecided) == len(all_ids(db)) - 1


def words_begin(db, *prefixes):
    """The items where each prefix begins a word of the question, options or answer."""
    rows = db.fetchall(
        "SELECT id, lower(question || ' ' || coalesce(array_to_string(options, ' '), '') "
        "|| ' ' || answer) FROM instructions ORDER BY id"
    )
    return [i for i, text in rows if all(re.search(rf"\b{p}", text) for p in prefixes)]


def test_word_search_follows_edits(proj):
    db = proj.db
    discs = search_index.matching_ids(db, "white disc")
    assert discs == words_begin(db, "white", "disc")  # every word, anywhere in the item
    assert search_index.matching_ids(db, "DIS") == words_begin(db, "dis")  # a prefix, any case
    target = discs[0]
    review.edit_instruction(db, target, "question", "Is a zebrafish swimming here?")
    assert search_index.matching_ids(db, "zebrafish") == [target]
    assert search_index.matching_ids(db, "zebra") == [target]
    assert target not in search_index.matching_ids(db, "white disc")
    # status changes do not re-index (the text hash is unchanged)
    review.set_instruction_status(db, [target], "accepted")
    assert search_index.refresh(db) == 0
    # undo brings the old words back
    review.apply_changes(db, review.inverse(
        [Change("instructions", target, "question", "Is there a white disc in picture 1?",
                       "Is a zebrafish swimming here?")]))  # fmt: skip
    assert target in search_index.matching_ids(db, "white disc")
    assert search_index.matching_ids(db, "zebrafish") == []
    # Chinese: every character is a word
    new = add_instruction(db, 1, "short_vqa", "zh", "图中的猫是什么颜色？", "黑色")
    assert search_index.matching_ids(db, "猫") == [new]
    assert search_index.matching_ids(db, "黑色 猫") == [new]
    assert search_index.matching_ids(db, "") == []
    # through the table's query, combined with a filter
    q = ItemQuery(text="white disc", itype="judgement")
    judged = set(all_ids(db, "itype = 'judgement'"))
    assert sorted(item_table.item_ids(db, q).tolist()) == [
        i for i in search_index.matching_ids(db, "white disc") if i in judged
    ]


def test_risk_queue_walks_undecided_riskiest_first(proj):
    db = proj.db
    order = [
        r[0]
        for r in db.fetchall(
            "SELECT id FROM instructions WHERE status IN ('new', 'ok', 'needs_review') "
            "ORDER BY risk DESC NULLS LAST, image_id, id"
        )
    ]
    walked, last = [], None
    while True:
        got = quality.select_by_risk(
            db, statuses=["new", "ok", "needs_review"], limit=1, after=last
        )
        if not got:
            break
        walked.append(got[0].id)
        last = got[0].id
    assert walked == order
    left = item_table.risky_left(db, 0.5)
    assert left == len(all_ids(db, "risk >= 0.5 AND status IN ('new', 'ok', 'needs_review')"))
    top = order[0]
    review.set_instruction_status(db, [top], "rejected")
    assert item_table.risky_left(db, 0.5) == left - (
        1 if quality.risk_of(db, [top])[top] >= 0.5 else 0
    )


def test_add_by_hand_checks_values_and_logs_creation(proj):
    db = proj.db
    before = len(all_ids(db))
    with pytest.raises(ReviewError, match="letters A, B, C, D"):
        add_instruction(db, 1, "multiple_choice", "en", "Which?", "E", ["a", "b", "c", "d"])
    with pytest.raises(ReviewError, match="four options"):
        add_instruction(db, 1, "multiple_choice", "en", "Which?", "A", ["a", "b"])
    with pytest.raises(ReviewError, match="does not exist"):
        add_instruction(db, 9999, "judgement", "en", "Is it?", "yes")
    with pytest.raises(ReviewError, match="empty"):
        add_instruction(db, 1, "judgement", "en", "   ", "yes")
    assert len(all_ids(db)) == before
    new = add_instruction(db, 2, "multiple_choice", "en", " Which colour? ", "b",
                          ["Red", "Blue", "Green", "Grey"], author="tester")  # fmt: skip
    row = db.fetchone(
        "SELECT image_id, origin, status, question, answer, options FROM instructions WHERE id = ?",
        [new],
    )
    assert row == (2, "manual", "accepted", "Which colour?", "B", ["Red", "Blue", "Green", "Grey"])
    (rev,) = review.revisions_for(db, "instructions", new)
    assert (rev.field, rev.old, rev.new, rev.author) == (CREATED, None, "Which colour?", "tester")


def test_replace_item_logs_text_and_clears_machine_verdicts(proj):
    db = proj.db
    flagged = all_ids(db, "len(check_flags) > 0 AND itype = 'judgement'")[0]
    assert replace_item(db, flagged, "Is the sky blue?", "yes", None, 7, "m1", "h", [1])
    row = db.fetchone(
        "SELECT question, status, check_flags, verify_agree, risk, job_id, model "
        "FROM instructions WHERE id = ?",
        [flagged],
    )
    assert row == ("Is the sky blue?", "new", None, None, None, 7, "m1")
    fields = {r.field: r for r in review.revisions_for(db, "instructions", flagged)}
    assert (
        fields["question"].new == "Is the sky blue?"
        and fields["question"].author == "regenerate m1"
    )
    assert fields["status"].new == "new"
    assert not replace_item(db, 99999, "q", "a", None, None, None, None, None)


def test_grid_matches_narrow_one_image(proj):
    db = proj.db
    image = db.scalar("SELECT image_id FROM instructions GROUP BY 1 HAVING count(*) = 5 LIMIT 1")
    assert item_table.grid_matches(db, image, ImageQuery()) is None
    judged = item_table.grid_matches(db, image, ImageQuery(itype="judgement"))
    assert judged == all_ids(db, f"image_id = {image} AND itype = 'judgement'")
    square = item_table.grid_matches(db, image, ImageQuery(text="SQUARE"))
    assert square == all_ids(db, f"image_id = {image} AND question ILIKE '%square%'")
    assert item_table.grid_matches(db, image, ImageQuery(text="Blue")) == all_ids(
        db, f"image_id = {image} AND itype = 'multiple_choice'"
    )  # options are searched too


def test_regenerate_plans_one_item_per_chosen_instruction(proj):
    from core.pipeline import stages
    from core.pipeline.options import PipelineError, StageOptions

    db = proj.db
    captioned = db.scalar(
        "SELECT min(n.id) FROM instructions n JOIN captions c ON c.image_id = n.image_id"
    )
    bare = db.scalar(
        "SELECT min(id) FROM instructions WHERE image_id NOT IN (SELECT image_id FROM captions)"
    )
    opts = stages.prepare(proj, "generate", StageOptions(instruction_ids=[captioned, bare],
                                                         sample_seed=7))  # fmt: skip
    run = stages.plan(proj, "generate", opts)
    ((key, payload),) = run.items
    assert payload["replace"] == captioned and payload["n"] == 1 and key.endswith(":seed7")
    assert run.skipped == {"no_caption": 1}
    again = stages.plan(proj, "generate", stages.prepare(
        proj, "generate", StageOptions(instruction_ids=[captioned], sample_seed=8)))  # fmt: skip
    assert again.items[0][0] != key  # another seed: another request
    with pytest.raises(PipelineError, match="no instruction with id 99999"):
        stages.prepare(proj, "generate", StageOptions(instruction_ids=[99999]))
