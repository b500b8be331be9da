"""`mmstudio doctor` on real projects: imported images, files removed, changed and added
behind the project's back, a job a killed process left running, a damaged block."""

from __future__ import annotations

import json

import pytest

from core.cli import EXIT_DAMAGED, main
from core.doctor import check
from core.library.importer import import_paths
from core.project import DB_NAME, Project
from core.store import jobs as jobs_store
from tests.core import damage_fixtures as dmg
from tests.core.import_fixtures import photo, save


@pytest.fixture
def imported(tmp_path):
    src = tmp_path / "src"
    for i in range(6):
        save(photo(i), src / f"p{i}.png")
    root = tmp_path / "proj"
    with Project.create(root) as p:
        import_paths(p, [src], workers=1)
    return root


def _rows(root):
    with Project.open(root) as p:
        return p.db.fetchall("SELECT id, path, thumb FROM images ORDER BY id")


def test_healthy_project_is_ok(imported, capsys):
    assert main(["doctor", str(imported), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["images"] == 6
    assert report["integrity"]["ok"] and report["integrity"]["rows"] > 6


def test_finds_and_fixes_what_can_be_fixed(imported, capsys):
    rows = _rows(imported)
    (imported / rows[0][1]).unlink()  # media gone
    (imported / rows[1][1]).write_bytes(b"not the same bytes")  # media changed
    (imported / rows[2][2]).unlink()  # thumbnail gone
    stray = imported / "media" / "zz" / "stray.png"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"nobody names me")
    (imported / "thumbs" / "old.webp").write_bytes(b"old")
    with Project.open(imported) as p:
        job = jobs_store.create_job(p.db, "echo", ["a", "b", "c"])
        jobs_store.set_job_status(p.db, job, "running")
        jobs_store.claim_items(p.db, job, 2)  # then the process "died"

    assert main(["doctor", str(imported), "--json"]) == 1
    r = json.loads(capsys.readouterr().out)
    assert r["missing_media"]["count"] == 1 and r["wrong_sha256"]["count"] == 1
    assert r["missing_thumbnails"]["count"] == 1 and r["missing_thumbnails"]["remade"] == 0
    assert r["orphan_media"]["samples"] == ["media/zz/stray.png"]
    assert r["orphan_thumbnails"]["samples"] == ["thumbs/old.webp"]
    assert r["stuck_jobs"] == {"jobs": [job], "items": 2, "reset": 0}
    assert stray.exists() and (imported / "thumbs" / "old.webp").exists()

    assert main(["doctor", str(imported), "--fix", "--json"]) == 1  # media cannot be re-made
    r = json.loads(capsys.readouterr().out)
    assert r["missing_thumbnails"]["remade"] == 1 and (imported / rows[2][2]).is_file()
    assert not stray.exists() and (imported / "trash").is_dir()
    trashed = sorted(p.name for p in (imported / "trash").rglob("*") if p.is_file())
    assert trashed == ["old.webp", "stray.png"]  # moved, not deleted
    assert r["stuck_jobs"]["reset"] == 2
    with Project.open(imported) as p:
        assert jobs_store.item_counts(p.db, job).get("running", 0) == 0
        assert jobs_store.get_job(p.db, job)["status"] == "stopped"
    assert r["problems"] == 2  # the missing and the changed media file remain


def test_quick_check_only_stats_files(imported):
    rows = _rows(imported)
    (imported / rows[1][1]).write_bytes(b"changed")
    with Project.open(imported) as p:
        quick = check(p, quick=True)
        full = check(p)
    assert quick.ok and not quick.integrity["checked"]
    assert full.wrong_sha256.count == 1


def test_damaged_block_is_reported_with_the_backup(tmp_path, capsys):
    root = tmp_path / "p"
    with Project.create(root) as p:
        dmg.fill(p, 60_000)
        block = dmg.status_block(p)
    dmg.zero_block(root / DB_NAME, block)
    code = main(["doctor", str(root), "--json"])
    captured = capsys.readouterr()
    assert code == EXIT_DAMAGED
    report = json.loads(captured.out)
    assert not report["integrity"]["ok"] and "checksum" in report["integrity"]["problem"]
    assert "mmstudio backup restore" in captured.err
