"""Snapshots, rotation and restore on real project files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.cli import main
from core.errors import ProjectLocked
from core.project import DB_NAME, Project
from core.store import backup
from core.store.db import Database
from tests.core import damage_fixtures as dmg


def _seed_count(root, text):
    with Project.open(root) as p:
        return p.db.scalar("SELECT count(*) FROM seeds WHERE text = ?", [text])


def _add_seed(p, text):
    p.db.execute(
        "INSERT INTO seeds (domain, itype, lang, text, source) VALUES ('misc', 'judgement', 'en', ?, 'user')",
        [text],
    )


def test_round_trip_edit_backup_damage_restore(tmp_path, capsys):
    root = tmp_path / "p"
    with Project.create(root) as p:
        dmg.fill(p, 5000)
        _add_seed(p, "my careful edit")
    # Closing took the backup (the file changed since the last one).
    snaps = backup.list_snapshots(root)
    assert snaps[0].reason == "close"
    dmg.truncate(root / DB_NAME)
    assert main(["backup", "restore", str(root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["restored"]["name"] == snaps[0].name and out["kept_aside"]
    assert _seed_count(root, "my careful edit") == 1
    # The damaged file was kept aside, and restoring it is the undo.
    assert (backup.backups_dir(root) / out["kept_aside"]).is_file()
    assert main(["backup", "restore", str(root), out["kept_aside"]]) == 0
    capsys.readouterr()
    assert main(["stats", str(root)]) == 3  # the truncated file is back, as asked


def test_snapshot_is_consistent_while_another_thread_writes(project):
    import threading

    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            with project.db.tx():  # two rows per transaction: a snapshot sees both or none
                _add_seed(project, f"w{n}a")
                _add_seed(project, f"w{n}b")
            n += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        snaps = [backup.snapshot(project, "manual") for _ in range(3)]
    finally:
        stop.set()
        t.join()
    for snap in snaps:
        with Database(snap.path, read_only=True) as db:
            assert db.scalar("SELECT count(*) FROM seeds WHERE source = 'user'") % 2 == 0


def test_close_without_changes_takes_no_backup(tmp_path):
    root = tmp_path / "p"
    Project.create(root).close()
    before = backup.list_snapshots(root)
    Project.open(root).close()
    assert [s.name for s in backup.list_snapshots(root)] == [s.name for s in before]


def test_backup_on_close_setting_is_read(tmp_path):
    root = tmp_path / "p"
    with Project.create(root) as p:
        p.update_settings(backup_on_close=False)
    with Project.open(root) as p:
        _add_seed(p, "x")
    assert backup.list_snapshots(root) == []


def test_migration_takes_a_snapshot_first(tmp_path):
    path = tmp_path / DB_NAME
    Database(path, upto=1).close()
    with Database(path) as db:
        assert db.version() > 1
    snaps = backup.list_snapshots(tmp_path)
    assert snaps and snaps[0].reason.startswith("before-migration-")
    with Database(snaps[0].path, read_only=True) as old:
        assert old.version() == 1


def test_rotation_keeps_last_k_one_per_day_and_fits_the_budget(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    now = datetime(2026, 5, 20, 12, tzinfo=UTC)
    made = []
    for hours in range(0, 24 * 10, 6):  # every 6 h for 10 days
        when = now - timedelta(hours=hours)
        s = backup.Snapshot(
            f"{hours:04d}.duckdb", folder / f"{hours:04d}.duckdb", "scheduled", when, 100
        )
        s.path.write_bytes(b"x" * 100)
        backup._write_sidecar(s)
        made.append(s)
    aside = backup.Snapshot(
        "aside.duckdb", folder / "aside.duckdb", backup.KEPT_ASIDE, now - timedelta(days=30), 100
    )
    aside.path.write_bytes(b"x" * 100)
    backup._write_sidecar(aside)
    backup.rotate(tmp_path, keep_last=3, keep_days=7, budget_mb=1)
    left = {s.name: s for s in backup.list_snapshots(tmp_path)}
    assert "aside.duckdb" in left  # never rotated away
    kept = [s for s in left.values() if s.reason == "scheduled"]
    days = {s.created_at.date() for s in kept}
    assert len(days) == 7 and {"0000.duckdb", "0006.duckdb", "0012.duckdb"} <= set(left)
    assert len(kept) == 3 + 6  # last three (all today) plus the newest of each of 6 more days
    backup.rotate(tmp_path, keep_last=3, keep_days=7, budget_mb=250 / 1024 / 1024)
    kept = [s for s in backup.list_snapshots(tmp_path) if s.reason == "scheduled"]
    assert [s.name for s in kept] == ["0000.duckdb", "0006.duckdb"]


def test_scheduled_backup_waits_for_the_interval_and_a_change(project):
    first = backup.snapshot(project, "manual")
    assert backup.snapshot_if_due(project) is None  # too soon
    later = first.created_at + timedelta(minutes=11)
    assert backup.snapshot_if_due(project, now=later) is None  # nothing changed
    _add_seed(project, "changed")
    assert backup.snapshot_if_due(project, now=later).reason == "scheduled"


def test_cli_list_and_create(tmp_path, capsys):
    root = tmp_path / "p"
    Project.create(root).close()
    assert main(["backup", "create", str(root), "--reason", "before tidy", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["reason"] == "before tidy" and made["name"].endswith("-before-tidy.duckdb")
    assert main(["backup", "list", str(root), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["snapshots"]
    assert listed[0]["name"] == made["name"]
    assert main(["backup", "restore", str(root), "no-such"]) == 1
    assert "no backup called" in capsys.readouterr().err


def test_restore_refuses_an_open_project(project):
    backup.snapshot(project, "manual")
    with pytest.raises(ProjectLocked):
        backup.restore(project.root)


def test_deleting_a_domain_takes_a_backup_first(project):
    from core.domains.taxonomy import add_domain, delete_domain

    add_domain(project.db, "birds")
    delete_domain(project.db, "birds")
    snap = backup.list_snapshots(project.root)[0]
    assert snap.reason == "before-delete-domain-birds"
    with Database(snap.path, read_only=True) as old:
        assert old.scalar("SELECT count(*) FROM domains WHERE name = 'birds'") == 1
