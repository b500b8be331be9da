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

from core.errors import ProjectClosed, ProjectError, SchemaTooNew

# DuckDB's own default is 80 % of the machine's memory; a project caps it (project setting
# `duckdb_memory_limit_mb`, applied by core.project) and spills larger work to disk.
DEFAULT_MEMORY_LIMIT_MB = 1024
# Files this process has open: DuckDB shares one instance per file inside a process, so its
# lock cannot tell a restore that this very process still holds the project.
_open_here: set[Path] = set()
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


def is_open_here(path: Path) -> bool:
    return Path(path).resolve() in _open_here


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        from core.store.damage import translate

        raise (translate(exc, path) or ProjectError(f"Cannot open {path}: {exc}")) from None


class Database:
    """One open project database. Thread-safe through per-thread cursors."""

    def __init__(self, path: Path, upto: int | None = None, read_only: bool = False):
        self.path = Path(path)
        self._con = connect(self.path, read_only=read_only)
        self._local = threading.local()
        self._closed = False
        _open_here.add(self.path.resolve())
        try:
            self.set_memory_limit(DEFAULT_MEMORY_LIMIT_MB)
            if not read_only:
                self.migrate(upto)
        except duckdb.Error as exc:
            from core.store.damage import translate

            self.close()
            better = translate(exc, self.path)
            if better is None:
                raise
            raise better from None
        except BaseException:
            self.close()
            raise

    def set_memory_limit(self, megabytes: int) -> None:
        self._con.execute(f"SET memory_limit = '{int(megabytes)}MB'")

    # connection handling -------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cur", None)
        if cur is None:
            if self._closed:
                raise ProjectClosed()
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
            _open_here.discard(self.path.resolve())
            try:
                self._con.close()
            except duckdb.Error:
                pass  # a damaged file fails its last checkpoint; the error was already raised

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
        pending = [m for m in known if m[0] not in done and (upto is None or m[0] <= upto)]
        if pending and current > 0:
            from core.store.backup import snapshot

            snapshot(self, f"before-migration-{pending[0][0]:03d}")
        applied = []
        for number, name, sql in pending:
            with self.tx() as c:
                c.execute(sql)
                c.execute(
                    "INSERT INTO schema_version (version, name) VALUES (?, ?)", [number, name]
                )
            applied.append(number)
        if applied:
            self.cursor().execute("CHECKPOINT")
        return applied
