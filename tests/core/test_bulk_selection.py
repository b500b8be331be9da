"""Bulk edits on a selection (core.store.bulk) and the trash (core.store.trash, core.trash),
on real DuckDB files: decisions and moves undo exactly, deletes restore every row."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main
from core.store import bulk, review
from core.store import trash as store_trash
from core.store.browse import ImageQuery
from core.store.review_change import ReviewError
from core.store.trash import TrashError
from core.trash import delete_images, empty, restore
from tests.review_data import populate


@pytest.fixture
def proj(project):
    populate(project, n_images=12, files=True)
    return project


def _dump(db):
    return {
        t: db.fetchall(f"SELECT * EXCLUDE (updated_at) FROM {t} ORDER BY 1")
        if t == "instructions"
        else db.fetchall(f"SELECT * FROM {t} ORDER BY ALL")
        for t in ("images", "instructions", "captions", "image_sources")
    }


def test_decide_by_query_cascades_and_undoes(proj):
    db = proj.db
    before = _dump(db)
    changes = bulk.decide_images(db, ImageQuery(domain="art"), "rejected")
    art = [r[0] for r in db.fetchall("SELECT id FROM images WHERE domain = 'art'")]
    assert db.fetchall("SELECT DISTINCT status FROM images WHERE domain = 'art'") == [("rejected",)]
    undecided = db.fetchall(
        "SELECT count(*) FROM instructions WHERE image_id IN (SELECT unnest(?)) "
        "AND status IN ('new', 'ok', 'needs_review')",
        [art],
    )
    assert undecided == [(0,)]
    assert {c.table for c in changes} == {"images", "instructions"}
    review.apply_changes(db, review.inverse(changes))
    assert _dump(db) == before


def test_decide_many_ids_is_batched_and_logged(proj):
    db = proj.db
    ids = np.array([r[0] for r in db.fetchall("SELECT id FROM images")], dtype=np.int64)
    n_rev = db.scalar("SELECT count(*) FROM revisions")
    changes = bulk.decide_images(db, ids, "accepted")
    assert db.scalar("SELECT count(*) FROM revisions") == n_rev + len(changes)
    assert db.fetchall("SELECT DISTINCT status FROM images") == [("accepted",)]
    # a second decision finds nothing to change
    assert bulk.decide_images(db, ids, "accepted") == []


def test_move_to_domain_and_back(proj):
    db = proj.db
    ids = [r[0] for r in db.fetchall("SELECT id FROM images ORDER BY id")]
    before = db.fetchall("SELECT id, domain FROM images ORDER BY id")
    changes = bulk.move_images(db, ids, "science")
    assert db.fetchall("SELECT DISTINCT domain FROM images") == [("science",)]
    review.apply_changes(db, review.inverse(changes))
    assert db.fetchall("SELECT id, domain FROM images ORDER BY id") == before
    with pytest.raises(ReviewError, match="no domain named"):
        bulk.move_images(db, ids, "nowhere")


def test_delete_restore_is_exact(proj):
    db = proj.db
    before = _dump(db)
    ids = [r[0] for r in db.fetchall("SELECT id FROM images ORDER BY id LIMIT 4")]
    batch = delete_images(proj, ids)
    assert batch.n_images == 4 and batch.counts["instructions"] > 0
    assert db.scalar("SELECT count(*) FROM images WHERE id IN (SELECT unnest(?))", [ids]) == 0
    assert db.scalar("SELECT count(*) FROM instructions WHERE image_id IN (SELECT unnest(?))",
                     [ids]) == 0  # fmt: skip
    assert list((proj.root / "backups").glob("*before-delete-images*"))
    assert [b.id for b in store_trash.list_trash(db)] == [batch.id]
    restore(proj, batch.id)
    assert _dump(db) == before
    assert store_trash.list_trash(db) == []
    with pytest.raises(TrashError, match="trash list"):
        restore(proj, batch.id)


def test_trash_follows_new_tables_and_columns(proj):
    db = proj.db
    db.execute("CREATE TABLE extra_notes (image_id BIGINT, note VARCHAR)")
    db.execute("INSERT INTO extra_notes SELECT id, 'n' || id FROM images")
    first = delete_images(proj, [1], backup=False)
    db.execute("ALTER TABLE images ADD COLUMN rating INTEGER")
    db.execute("UPDATE images SET rating = 5 WHERE id = 2")
    second = delete_images(proj, [2], backup=False)
    assert first.counts["extra_notes"] == 1
    restore(proj, second.id)
    restore(proj, first.id)
    assert db.fetchall("SELECT id, rating FROM images WHERE id IN (1, 2) ORDER BY id") == [
        (1, None),
        (2, 5),
    ]
    assert db.scalar("SELECT count(*) FROM extra_notes") == 12


def test_restore_refused_when_the_file_came_back(proj):
    db = proj.db
    sha = db.scalar("SELECT sha256 FROM images WHERE id = 1")
    batch = delete_images(proj, [1], backup=False)
    db.execute(
        "INSERT INTO images (sha256, storage, path) VALUES (?, 'reference', '/x.png')", [sha]
    )
    with pytest.raises(TrashError, match="in the library again"):
        restore(proj, batch.id)
    assert db.scalar("SELECT count(*) FROM trash") == 1  # nothing changed


def test_empty_removes_unshared_media(proj):
    db = proj.db
    path, thumb = db.fetchone("SELECT path, thumb FROM images WHERE id = 3")
    assert (proj.root / path).exists()
    batch = delete_images(proj, [3], backup=False)
    assert (proj.root / path).exists()  # still there while in the trash
    done = empty(proj, [batch.id])
    assert done == {"deletes": 1, "images": 1, "files_removed": 2 if thumb else 1}
    assert not (proj.root / path).exists()
    assert db.scalar("SELECT count(*) FROM trash_images") == 0


def test_empty_selection_is_an_error(proj):
    with pytest.raises(TrashError, match="selection is empty"):
        delete_images(proj, [], backup=False)


def test_cli_delete_list_restore(proj, capsys):
    root = str(proj.root)
    proj.close()
    assert main(["delete", root]) == 1  # no selection and no --all
    assert "no selection" in capsys.readouterr().err
    assert main(["delete", root, "--domain", "art", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == 4
    assert main(["trash", "list", root, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["trash"]
    assert [b["id"] for b in listed] == [out["id"]]
    assert main(["trash", "restore", root, str(out["id"])]) == 0
    assert "restored 4 image(s)" in capsys.readouterr().out
    assert main(["trash", "list", root]) == 0
    assert "the trash is empty" in capsys.readouterr().out
    assert main(["delete", root, "--images", "2,x"]) == 1
    assert "not a list of ids" in capsys.readouterr().err
    assert main(["delete", root, "--images", "2,3"]) == 0
    assert "moved 2 image(s)" in capsys.readouterr().out


def test_cli_decide_and_move(proj, capsys):
    root = str(proj.root)
    db_path = proj.root
    proj.close()
    assert main(["decide", root, "accepted"]) == 1
    assert "no selection" in capsys.readouterr().err
    assert main(["decide", root, "accepted", "--domain", "art", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == 4 and out["instructions"] > 0
    assert main(["decide", root, "rejected", "--images", "1,2", "--no-cascade", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"status": "rejected", "images": 2, "instructions": 0}
    assert main(["move", root, "street", "--images", "1,2"]) == 0
    assert "moved" in capsys.readouterr().out
    assert main(["move", root, "nowhere", "--all"]) == 1
    assert "no domain named" in capsys.readouterr().err
    from core.project import Project

    with Project.open(db_path) as p:
        assert p.db.fetchall("SELECT domain, status FROM images WHERE id IN (1, 2)") == [
            ("street", "rejected"),
            ("street", "rejected"),
        ]
