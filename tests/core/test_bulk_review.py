"""A bulk decision (many rows, one field) goes through the set-based path with the same
checks, log and undo as single edits."""

from __future__ import annotations

import pytest

from core.store import review
from core.store.review_change import EditConflict, ReviewError


@pytest.fixture
def many(project):
    db = project.db
    db.execute("INSERT INTO images (sha256, storage, path) VALUES ('s', 'copy', 'media/s.png')")
    db.execute(
        "INSERT INTO instructions (image_id, itype, lang, question, answer, status) "
        "SELECT 1, 'short_vqa', 'en', 'q' || range, 'a', CASE WHEN range % 10 = 0 "
        "THEN 'accepted' ELSE 'ok' END FROM range(300)"
    )
    return db


def test_bulk_status_logs_every_row_and_undoes(many):
    ids = [r[0] for r in many.fetchall("SELECT id FROM instructions ORDER BY id")]
    changes = review.set_instruction_status(many, ids, "rejected", author="t")
    assert len(changes) == 300
    assert many.scalar("SELECT count(*) FROM instructions WHERE status = 'rejected'") == 300
    logged = many.fetchall(
        "SELECT old, count(*) FROM revisions WHERE field = 'status' AND author = 't' GROUP BY ALL ORDER BY ALL"
    )
    assert logged == [("accepted", 30), ("ok", 270)]
    review.apply_changes(many, review.inverse(changes), author="t")
    assert many.scalar("SELECT count(*) FROM instructions WHERE status = 'accepted'") == 30
    assert many.scalar("SELECT count(*) FROM revisions") == 600


def test_bulk_change_refuses_a_stale_batch_and_changes_nothing(many):
    ids = [r[0] for r in many.fetchall("SELECT id FROM instructions ORDER BY id")]
    changes = review.set_instruction_status(many, ids, "rejected")
    many.execute("UPDATE instructions SET status = 'needs_fix' WHERE id = ?", [ids[5]])
    with pytest.raises(EditConflict, match="1 instructions rows"):
        review.apply_changes(many, review.inverse(changes))
    assert many.scalar("SELECT count(*) FROM instructions WHERE status = 'rejected'") == 299


def test_unknown_instruction_is_refused(many):
    with pytest.raises(ReviewError, match="does not exist"):
        review.set_instruction_status(many, [1, 2, 99999], "accepted")
