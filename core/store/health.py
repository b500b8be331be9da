"""The database side of `mmstudio doctor`: a full read of every table, the image files the
rows expect, and job items a dead process left `running`."""

from __future__ import annotations

from core.store.db import Database


def integrity_scan(db: Database) -> tuple[int, int]:
    """Read every column of every table, so DuckDB verifies the checksum of every block it
    stores (it checks a block only when reading it). Returns (tables, rows); raises the
    duckdb error of the first damaged block."""
    tables = db.fetchall(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND NOT internal ORDER BY ALL"
    )
    rows = 0
    for schema, table in tables:
        name = f'"{schema}"."{table}"'
        # hash() of every column forces each one to be read; sum keeps the result one row.
        n = db.fetchone(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {name}")[0]
        rows += n
    return len(tables), rows


def image_files(db: Database) -> list[tuple[int, str, str, str, str | None]]:
    """(id, sha256, storage, path, thumb) of every image row."""
    return db.fetchall("SELECT id, sha256, storage, path, thumb FROM images ORDER BY id")


def set_thumbs(db: Database, pairs: list[tuple[int, str]]) -> None:
    """Record re-made thumbnails: (image id, relative thumbnail path)."""
    if pairs:
        with db.tx() as cur:
            cur.executemany("UPDATE images SET thumb = ? WHERE id = ?", [(t, i) for i, t in pairs])


def stuck_jobs(db: Database) -> tuple[list[int], int]:
    """(jobs marked running or paused, job items in state running). Whoever holds the
    project's lock is the only live process, so for a caller that holds it these are left
    over from a process that died."""
    jobs = [r[0] for r in db.fetchall("SELECT id FROM jobs WHERE status IN ('running', 'paused')")]
    items = db.scalar("SELECT count(*) FROM job_items WHERE state = 'running'")
    return jobs, items


def reset_stuck_items(db: Database) -> int:
    """Every running item back to pending (their jobs are reset by jobs.recover_all)."""
    with db.tx() as cur:
        n = cur.execute("SELECT count(*) FROM job_items WHERE state = 'running'").fetchone()[0]
        cur.execute(
            "UPDATE job_items SET state = 'pending', updated_at = current_timestamp "
            "WHERE state = 'running'"
        )
    return n
