import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from core.errors import ProjectError, ProjectLocked, SchemaTooNew
from core.project import Project
from core.store.db import Database, latest_version, migrations


def test_new_project_has_layout_and_latest_schema(tmp_path):
    with Project.create(tmp_path / "p", name="demo") as p:
        for sub in ("media", "thumbs", "exports", "runs"):
            assert (p.root / sub).is_dir()
        assert p.db.version() == latest_version()
        assert p.name == "demo"
        assert p.settings()["thumbnail_size"] == 256


def test_create_refuses_existing_project(tmp_path):
    Project.create(tmp_path / "p").close()
    with pytest.raises(ProjectError, match="already holds a project"):
        Project.create(tmp_path / "p")


def test_open_missing_project_is_clear(tmp_path):
    with pytest.raises(ProjectError, match="not a project"):
        Project.open(tmp_path / "nothing")


def test_migrations_are_numbered_and_unique():
    numbers = [n for n, _, _ in migrations()]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1


def test_old_version_file_is_upgraded_keeping_data(tmp_path):
    path = tmp_path / "old.duckdb"
    with Database(path, upto=1) as db:
        assert db.version() == 1
        db.execute(
            "INSERT INTO images (sha256, storage, path, domain) VALUES ('abc', 'copy', 'media/a', 'art')"
        )
        cols = [r[0] for r in db.fetchall("DESCRIBE images")]
        assert "exif_orientation" not in cols
    with Database(path) as db:
        assert db.version() == latest_version()
        assert db.fetchone("SELECT sha256, domain, exif_orientation FROM images") == (
            "abc",
            "art",
            None,
        )
        applied = [r[0] for r in db.fetchall("SELECT version FROM schema_version ORDER BY 1")]
        assert applied == [n for n, _, _ in migrations()]


def test_migration_numbered_below_the_files_highest_is_still_applied(tmp_path):
    # Area ranges mean a release can add 003 to a file already at 050: it must not be skipped.
    path = tmp_path / "gap.duckdb"
    Database(path, upto=1).close()
    second = migrations()[1][0]
    con = duckdb.connect(str(path))
    for number, name, _ in migrations()[2:]:
        con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [number, name])
    con.close()
    with Database(path) as db:
        applied = [r[0] for r in db.fetchall("SELECT version FROM schema_version ORDER BY 1")]
        assert applied == [n for n, _, _ in migrations()]
        assert second in applied
        assert "exif_orientation" in [r[0] for r in db.fetchall("DESCRIBE images")]


def test_file_from_newer_version_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    Database(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version (version, name) VALUES (999, '999_future.sql')")
    con.close()
    with pytest.raises(SchemaTooNew, match="newer"):
        Database(path)


def test_transaction_rolls_back_on_error(project):
    db = project.db
    with pytest.raises(RuntimeError):
        with db.tx() as cur:
            cur.execute("INSERT INTO domains (name) VALUES ('x')")
            raise RuntimeError("boom")
    assert db.scalar("SELECT count(*) FROM domains WHERE name = 'x'") == 0
    with db.tx() as cur:
        cur.execute("INSERT INTO domains (name) VALUES ('x')")
        with db.tx() as inner:  # nested joins the outer transaction
            inner.execute("INSERT INTO domains (name) VALUES ('y')")
    assert db.scalar("SELECT count(*) FROM domains") == 2


def test_second_process_gets_clear_lock_error_naming_pid(tmp_path):
    root = tmp_path / "p"
    Project.create(root).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from core.project import Project
                p = Project.open({str(root)!r})
                print("open", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(ProjectLocked) as info:
            Project.open(root)
        assert info.value.pid == holder.pid
        assert f"pid {holder.pid}" in str(info.value)
    finally:
        holder.kill()
        holder.wait()
    # The lock dies with its process: the project opens again.
    deadline = time.time() + 10
    while True:
        try:
            Project.open(root).close()
            break
        except ProjectLocked:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def test_threads_use_their_own_cursors(project):
    import threading

    errors = []

    def worker(n):
        try:
            for i in range(20):
                with project.db.tx() as cur:
                    cur.execute("INSERT INTO domains (name) VALUES (?)", [f"d{n}-{i}"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert project.db.scalar("SELECT count(*) FROM domains") == 80


def test_settings_roundtrip_and_unknown_key(project):
    project.update_settings(near_duplicate_threshold=3)
    assert project.settings()["near_duplicate_threshold"] == 3
    with pytest.raises(ProjectError, match="unknown"):
        project.update_settings(bogus=1)
