"""Every way DuckDB refuses a project file ends in one message naming the file, the problem
and the newest backup with its restore command: damaged for real, read through the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.cli import EXIT_DAMAGED, main
from core.errors import ProjectDamaged
from core.project import DB_NAME, Project
from core.store.backup import snapshot
from tests.core import damage_fixtures as dmg


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("damage") / "proj"
    with Project.create(root) as p:
        dmg.fill(p)
        block = dmg.status_block(p)
        snap = snapshot(p, "manual")
    return root, block, snap.name


def _damaged(base, tmp_path, how):
    root, block, _ = base
    work = dmg.copy_project(root, tmp_path / "proj")
    db = work / DB_NAME
    if how == "zeroed_block":
        dmg.zero_block(db, block)
    elif how == "truncated":
        dmg.truncate(db)
    elif how == "random_bytes":
        dmg.random_bytes(db)
    elif how == "not_a_database":
        db.write_text("these are my notes, not a database\n" * 200)
    elif how == "newer_version":
        dmg.newer_storage_version(db)
    elif how == "damaged_wal":
        dmg.killed_writer(work)
        dmg.corrupt_wal(work)
    return work


PROBLEM_WORDS = {
    "zeroed_block": "checksum",
    "truncated": "truncated",
    "random_bytes": "not a DuckDB database",
    "not_a_database": "not a DuckDB database",
    "newer_version": "newer DuckDB",
    "damaged_wal": "write-ahead log",
}


@pytest.mark.parametrize("how", sorted(PROBLEM_WORDS))
def test_damaged_file_gets_one_message_with_the_backup(base, tmp_path, capsys, how):
    work = _damaged(base, tmp_path, how)
    code = main(["stats", str(work)])
    err = capsys.readouterr().err
    assert code == EXIT_DAMAGED
    assert err.startswith("error: ") and "Traceback" not in err
    assert str(work / DB_NAME) in err
    assert PROBLEM_WORDS[how] in err
    assert base[2] in err and f"mmstudio backup restore {work} {base[2]}" in err


def test_the_error_is_a_project_error_with_its_parts(base, tmp_path):
    work = _damaged(base, tmp_path, "truncated")
    with pytest.raises(ProjectDamaged) as info:
        Project.open(work)
    assert info.value.backup.startswith(base[2]) and "truncated" in info.value.problem


def test_no_backup_says_so(tmp_path, capsys):
    root = tmp_path / "p"
    Project.create(root).close()
    for f in (root / "backups").glob("*"):
        f.unlink()
    dmg.random_bytes(root / DB_NAME)
    assert main(["stats", str(root)]) == EXIT_DAMAGED
    assert "no backup" in capsys.readouterr().err


def test_a_wal_left_by_kill_9_is_replayed(base, tmp_path):
    work = dmg.copy_project(base[0], tmp_path / "proj")
    dmg.killed_writer(work, rows=1000)
    with Project.open(work) as p:
        assert (
            p.db.scalar("SELECT count(*) FROM instructions WHERE question LIKE 'killed %'") == 1000
        )


def test_cli_process_prints_no_traceback(base, tmp_path):
    work = _damaged(base, tmp_path, "zeroed_block")
    out = subprocess.run(
        [sys.executable, "-m", "core", "stats", str(work)], capture_output=True, text=True
    )
    assert out.returncode == EXIT_DAMAGED
    assert "Traceback" not in out.stderr and "checksum" in out.stderr
