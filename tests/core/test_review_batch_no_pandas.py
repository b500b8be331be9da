"""Undoing 64 or more changes (a bulk decision, a find-and-replace over captions) applies
them as one batch read from a temp table filled in slices, not a registered Arrow table:
DuckDB's register imported pandas on its first call, ~0.35-0.5 s holding the GIL in the
undo's worker thread, a stall of the window."""

from __future__ import annotations

from core.store import review, review_apply
from core.store.review_apply import _BATCH_MIN
from core.store.review_change import Change, EditConflict
from tests.child import run_script
from tests.review_data import populate


def _status_changes(db, new: str) -> list[Change]:
    rows = db.fetchall("SELECT id, status FROM instructions ORDER BY id")
    return [Change("instructions", i, "status", old, new) for i, old in rows]


def test_batches_over_several_slices_apply_and_undo(project, monkeypatch):
    populate(project, n_images=40, files=False)
    db = project.db
    monkeypatch.setattr(review_apply, "_SLICE", 7)
    before = db.fetchall("SELECT id, status FROM instructions ORDER BY id")
    changes = _status_changes(db, "accepted")
    assert len(changes) >= _BATCH_MIN
    review.apply_changes(db, changes, "ana")
    assert db.fetchall("SELECT DISTINCT status FROM instructions") == [("accepted",)]
    logged = db.scalar("SELECT count(*) FROM revisions WHERE field = 'status'")
    review.apply_changes(db, review.inverse(changes), "ana")
    assert db.fetchall("SELECT id, status FROM instructions ORDER BY id") == before
    assert logged == len(changes)
    # a conflict refuses the whole batch
    db.execute("UPDATE instructions SET status = 'rejected' WHERE id = ?", [before[0][0]])
    try:
        review.apply_changes(db, changes, "ana")
        raise AssertionError("the conflict was not refused")
    except EditConflict:
        pass
    assert db.scalar("SELECT count(*) FROM instructions WHERE status = 'accepted'") == 0


def test_undoing_many_changes_does_not_import_pandas(tmp_path):
    lines = run_script(
        f"""
        import sys
        from pathlib import Path
        from core.project import Project
        from core.store import review
        from tests.core.test_review_batch_no_pandas import _status_changes
        from tests.review_data import populate
        with Project.create(Path({str(tmp_path / "p")!r})) as p:
            populate(p, n_images=90, files=False)
            db = p.db
            statuses = _status_changes(db, "accepted")
            review.apply_changes(db, statuses, "ana")
            images = [r[0] for r in db.fetchall(
                "SELECT DISTINCT image_id FROM captions ORDER BY 1")]
            captions = [c for i in images for c in review.save_caption(db, i, f"New {{i}}.")]
            assert len(statuses) >= 64 and len(captions) >= 64, (len(statuses), len(captions))
            assert "pandas" not in sys.modules, "imported before the undo"
            review.apply_changes(db, review.inverse(captions), "ana")
            review.apply_changes(db, review.inverse(statuses), "ana")
            back = db.scalar("SELECT count(*) FROM captions WHERE is_current AND text LIKE 'New%'")
            left = db.scalar("SELECT count(*) FROM instructions WHERE status = 'accepted'")
            print(back, left, "pandas" in sys.modules)
        """
    )
    assert lines[-1] == "0 0 False"
