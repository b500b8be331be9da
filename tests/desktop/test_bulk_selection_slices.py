"""The bulk selection of ids (core.store.bulk.selected) is a temp table filled in slices, not a
registered Arrow table: DuckDB's register imported pandas in the worker on the first bulk
decision, a third of a second of GIL-holding work that stalled the window."""

from __future__ import annotations

from core.store import bulk
from tests.child import run_script
from tests.review_data import populate


def test_ids_over_several_slices_are_all_decided(project, monkeypatch):
    populate(project, n_images=12, files=True)
    db = project.db
    ids = [r[0] for r in db.fetchall("SELECT id FROM images ORDER BY id")]
    monkeypatch.setattr(bulk, "_SLICE", 5)  # 12 ids: three INSERTs
    bulk.decide_images(db, ids + ids[:3], "rejected")  # duplicates count once
    assert db.fetchall("SELECT DISTINCT status FROM images") == [("rejected",)]
    assert bulk.selection_ids(db, ids).tolist() == ids


def test_a_bulk_decision_does_not_import_pandas(tmp_path):
    lines = run_script(
        f"""
        import sys
        from pathlib import Path
        from core.project import Project
        from core.store import bulk
        from tests.review_data import populate
        with Project.create(Path({str(tmp_path / "p")!r})) as p:
            populate(p, n_images=4, files=True)
            ids = [r[0] for r in p.db.fetchall("SELECT id FROM images")]
            assert "pandas" not in sys.modules, "imported before the decision"
            bulk.decide_images(p.db, ids, "accepted")
            print("pandas" in sys.modules)
        """
    )
    assert lines == ["False"]
