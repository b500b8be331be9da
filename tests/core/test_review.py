import pytest

from core.store import browse, review
from core.store.review_change import Change, EditConflict, ReviewError
from core.store.review_stats import review_stats
from tests.review_data import populate


@pytest.fixture
def ids(project):
    return populate(project, n_images=8, files=False)


def _items(project, image_id):
    return browse.instructions_for_image(project.db, image_id)


def _revisions(project):
    return project.db.fetchall(
        "SELECT tbl, row_id, field, old, new, author FROM revisions ORDER BY id"
    )


def test_edit_question_writes_revision_and_undo_restores(project, ids):
    item = _items(project, ids[0])[0]
    changes = review.edit_instruction(project.db, item.id, "question", "  Is it round? ", "ana")
    assert changes == [Change("instructions", item.id, "question", item.question, "Is it round?")]
    assert _items(project, ids[0])[0].question == "Is it round?"
    assert _revisions(project) == [
        ("instructions", item.id, "question", item.question, "Is it round?", "ana")
    ]
    review.apply_changes(project.db, review.inverse(changes), "ana")
    assert _items(project, ids[0])[0].question == item.question
    assert len(_revisions(project)) == 2  # the undo is logged too
    review.apply_changes(project.db, changes, "ana")  # redo
    assert _items(project, ids[0])[0].question == "Is it round?"


def test_unchanged_value_is_not_an_edit(project, ids):
    item = _items(project, ids[0])[0]
    assert review.edit_instruction(project.db, item.id, "question", item.question) == []
    assert _revisions(project) == []


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("question", "   ", "question is empty"),
        ("answer", "maybe", "yes or no"),
        ("options", ["a", "b"], "has no options"),
        ("itype", "long_vqa", "cannot edit"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(project, ids, field, value, message):
    item = _items(project, ids[0])[0]  # a judgement
    with pytest.raises(ReviewError, match=message):
        review.edit_instruction(project.db, item.id, field, value)
    assert _items(project, ids[0])[0] == item
    assert _revisions(project) == []


def test_multiple_choice_answer_and_options(project, ids):
    mc = _items(project, ids[1])[1]
    assert mc.itype == "multiple_choice"
    assert review.edit_instruction(project.db, mc.id, "answer", " c. ")[0].new == "C"
    with pytest.raises(ReviewError, match="A, B, C, D"):
        review.edit_instruction(project.db, mc.id, "answer", "E")
    with pytest.raises(ReviewError, match="exactly four"):
        review.edit_instruction(project.db, mc.id, "options", ["x", "y", "z"])
    with pytest.raises(ReviewError, match="option is empty"):
        review.edit_instruction(project.db, mc.id, "options", ["x", "y", " ", "w"])
    ch = review.edit_instruction(project.db, mc.id, "options", ["Red", "Black", "Green", "Pink"])
    assert _items(project, ids[1])[1].options == ["Red", "Black", "Green", "Pink"]
    assert _revisions(project)[-1][3:5] == (
        '["Red", "Black", "Green", "Blue"]',
        '["Red", "Black", "Green", "Pink"]',
    )
    review.apply_changes(project.db, review.inverse(ch))
    assert _items(project, ids[1])[1].options == ["Red", "Black", "Green", "Blue"]


def test_judgement_answers_normalised_per_language(project, ids):
    item = _items(project, ids[0])[0]
    assert review.edit_instruction(project.db, item.id, "answer", "No")[0].new == "no"
    assert review.edit_instruction(project.db, item.id, "answer", "是")[0].new == "是"


def test_image_decision_cascades_to_undecided_items_only(project, ids):
    image = ids[4]  # five instructions
    items = _items(project, image)
    review.set_instruction_status(project.db, [items[0].id], "rejected")
    changes = review.set_image_status(project.db, image, "accepted")
    assert changes[0] == Change("images", image, "status", "new", "accepted")
    after = {i.id: i.status for i in _items(project, image)}
    assert after[items[0].id] == "rejected"
    assert all(after[i.id] == "accepted" for i in items[1:])
    assert browse.image_detail(project.db, image).status == "accepted"
    review.apply_changes(project.db, review.inverse(changes))
    assert {i.id: i.status for i in _items(project, image)} == {
        i.id: ("rejected" if i.id == items[0].id else i.status) for i in items
    }
    assert browse.image_detail(project.db, image).status == "new"
    with pytest.raises(ReviewError, match="unknown image status"):
        review.set_image_status(project.db, image, "ok")


def test_caption_versions_and_undo(project, ids):
    db = project.db
    image = ids[0]
    first = browse.caption_versions(db, image)[0]
    changes = review.save_caption(db, image, "A red picture.", "ana")
    caps = browse.caption_versions(db, image)
    assert [(c.version, c.is_current, c.origin) for c in caps] == [
        (2, True, "manual"),
        (1, False, first.origin),
    ]
    assert caps[0].lang == "en"
    assert _revisions(project) == [
        ("images", image, "caption", first.text, "A red picture.", "ana")
    ]
    review.apply_changes(db, review.inverse(changes))
    assert [c.is_current for c in browse.caption_versions(db, image)] == [False, True]
    review.make_caption_current(db, image, caps[0].id)
    assert browse.caption_versions(db, image)[0].is_current
    assert review.save_caption(db, image, "A red picture.") == []
    with pytest.raises(ReviewError, match="caption is empty"):
        review.save_caption(db, image, "  ")
    with pytest.raises(ReviewError, match="not a version"):
        review.make_caption_current(db, ids[1], caps[0].id)


def test_first_caption_on_uncaptioned_image(project, ids):
    image = ids[3]  # every 4th image has no caption
    assert browse.caption_versions(project.db, image) == []
    changes = review.save_caption(project.db, image, "Now described.")
    assert changes[0].old is None
    review.apply_changes(project.db, review.inverse(changes))
    assert not any(c.is_current for c in browse.caption_versions(project.db, image))


def test_conflicting_undo_is_refused_whole(project, ids):
    item = _items(project, ids[2])[0]
    changes = review.edit_instruction(project.db, item.id, "answer", "no")
    review.edit_instruction(project.db, item.id, "answer", "yes")  # someone else, later
    status = review.set_instruction_status(project.db, [item.id], "accepted")
    before = _revisions(project)
    with pytest.raises(EditConflict, match="changed since"):
        review.apply_changes(project.db, review.inverse(status + changes))
    assert _items(project, ids[2])[0].status == "accepted"  # rolled back as a whole
    assert _revisions(project) == before


def test_review_stats_counts_and_correction_rate(project, ids):
    db = project.db
    a, b = _items(project, ids[1])
    review.edit_instruction(db, a.id, "question", "Is there a disc?")
    review.set_instruction_status(db, [a.id, b.id], "accepted")
    stats = review_stats(db)
    total = sum(n for *_, n in stats["instructions"])
    assert total == db.scalar("SELECT count(*) FROM instructions")
    assert ("science", "judgement", "accepted", 1) in stats["instructions"]
    assert dict(stats["flags"])["answer_leak"] >= 1
    assert stats["disagreements"] == db.scalar(
        "SELECT count(*) FROM instructions WHERE NOT verify_agree"
    )
    assert stats["correction"] == [("science", 2, 1)]
    assert sum(n for *_, n in stats["images"]) == 8
