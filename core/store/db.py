"""A project's DuckDB file: open with a clear lock error, migrate, and run transactions.

DuckDB allows one read-write process per file. Inside that process each thread must use its
own cursor, so `cursor()` hands out one per thread; `tx()` wraps a block in a transaction on it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from core.errors import ProjectError, ProjectLocked, SchemaTooNew

_LOCK_PID = re.compile(r"\(PID (\d+)\)")
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """All bundled migrations as (number, name, sql), sorted by number."""
    found = []
    for entry in resources.files("core.store.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if len(numbers) != len(set(numbers)):
        raise RuntimeError(f"duplicate migration numbers: {numbers}")
    return found


def latest_version() -> int:
    return migrations()[-1][0]


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            m = _LOCK_PID.search(text)
            raise ProjectLocked(path.parent, int(m.group(1)) if m else None) from None
        raise ProjectError(f"Cannot open {path}: {text}") from None


class Database:
    """One open project database. Thread-safe through per-thread cursors."""

    def __init__(self, path: Path, upto: int | None = None, read_only: bool = False):
        self.path = Path(path)
        self._con = connect(self.path, read_only=read_only)
        self._local = threading.local()
        self._closed = False
        if not read_only:
            self.migrate(upto)

    # connection handling -------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cur", None)
        if cur is None:
            if self._closed:
                raise ProjectError("project is closed")
            cur = self._con.cursor()
            self._local.cur = cur
        return cur

    @contextmanager
    def tx(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction on this thread's cursor; nested calls join the outer one."""
        cur = self.cursor()
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield cur
            finally:
                self._local.depth = depth
            return
        cur.execute("BEGIN TRANSACTION")
        self._local.depth = 1
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            self._local.depth = 0

    def execute(self, sql: str, params=None):
        return self.cursor().execute(sql, params or [])

    def fetchall(self, sql: str, params=None) -> list[tuple]:
        return self.cursor().execute(sql, params or []).fetchall()

    def fetchone(self, sql: str, params=None):
        return self.cursor().execute(sql, params or []).fetchone()

    def scalar(self, sql: str, params=None):
        row = self.fetchone(sql, params)
        return None if row is None else row[0]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._con.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # schema --------------------------------------------------------------------------
    def version(self) -> int:
        cur = self.cursor()
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchone()[0]
        if not exists:
            return 0
        return cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]

    def migrate(self, upto: int | None = None) -> list[int]:
        """Apply pending migrations in order, each atomically. Returns the numbers applied."""
        cur = self.cursor()
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
        )
        current = self.version()
        known = migrations()
        if known and current > known[-1][0]:
            raise SchemaTooNew(
                f"{self.path} was written by a newer MMInstruct Studio (schema {current}, "
                f"this version knows up to {known[-1][0]}). Update the app to open it."
            )
        # Numbers are handed out by area (docs/CONTRACTS.md), so a later release can add a
        # number below a file's highest one: apply every number not yet recorded, in order.
        done = {v for (v,) in cur.execute("SELECT version FROM schema_version").fetchall()}
        applied = []
        for number, name, sql in known:
            if number in done or (upto is not None and number > upto):
                continue
            with self.tx() as c:
                c.execute(sql)
                c.execute(
                    "INSERT INTO schema_version (version, name) VALUES (?, ?)", [number, name]
                )
            applied.append(number)
        if applied:
            self.cursor().execute("CHECKPOINT")
        return applied
