"""Turn every way DuckDB refuses a project file into one ProjectDamaged message.

DuckDB finds some damage when it opens a file (header, catalog, a WAL it cannot replay) and
the rest only when a query reads the damaged block, so both the open and the `with project:`
block translate. The patterns are DuckDB's own messages (checked by tests that damage real
files: a zeroed block, a truncated file, random bytes, a newer storage version, a bad WAL).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import duckdb

from core.errors import ProjectDamaged, ProjectLocked

_LOCK_PID = re.compile(r"\(PID (\d+)\)")
_STORAGE_VERSION = re.compile(r"storage version number (\d+).*?between (\d+) and (\d+)", re.S)

# (pattern in DuckDB's message, what we tell the user); first match wins.
PROBLEMS: list[tuple[re.Pattern, str]] = [
    (
        re.compile(r"replaying WAL|Corrupt WAL|WAL does not match", re.I),
        "its write-ahead log (the .wal file a crash leaves next to it) is damaged or belongs "
        "to another file, so the last changes cannot be replayed",
    ),
    (
        re.compile(r"computed checksum .* does not match|Corrupt database file", re.I),
        "part of the file is damaged (a block's checksum does not match its content)",
    ),
    (
        re.compile(r"Could not read enough bytes|attempted to read .* bytes", re.I),
        "the file is truncated (shorter than its own index says)",
    ),
    (
        re.compile(r"not a valid DuckDB database file", re.I),
        "the file is not a DuckDB database (empty, overwritten or another kind of file)",
    ),
    (
        re.compile(r"created with a newer version of DuckDB|storage version", re.I),
        "the file was written by a newer DuckDB than this app's ({version})",
    ),
    (
        re.compile(r"invalidated|FATAL Error", re.I),
        "DuckDB stopped using the file after an internal error while reading it",
    ),
]


def problem_of(exc: BaseException) -> str | None:
    """What is wrong with the file, in words, if `exc` says the file itself is bad."""
    if not isinstance(exc, duckdb.Error):
        return None
    text = str(exc)
    for pattern, words in PROBLEMS:
        if pattern.search(text):
            if "{version}" in words:
                m = _STORAGE_VERSION.search(text)
                detail = f"DuckDB {duckdb.__version__}"
                if m:
                    detail += (
                        f"; file storage version {m.group(1)}, readable {m.group(2)}-{m.group(3)}"
                    )
                words = words.format(version=detail)
            return words
    return None


def restore_command(root: Path, snapshot_name: str) -> str:
    return f"mmstudio backup restore {shlex.quote(str(root))} {shlex.quote(snapshot_name)}"


def damaged(db_path: Path, problem: str) -> ProjectDamaged:
    from core.store.backup import newest_restorable

    db_path = Path(db_path)
    best = newest_restorable(db_path.parent)
    if best is None:
        return ProjectDamaged(db_path, problem)
    when = best.created_at.strftime("%Y-%m-%d %H:%M")
    return ProjectDamaged(
        db_path,
        problem,
        backup=f"{best.name} ({when}, {best.reason})",
        restore_command=restore_command(db_path.parent, best.name),
    )


def translate(exc: BaseException, db_path: Path) -> Exception | None:
    """The StudioError to raise instead of `exc`, or None when `exc` is not about the file."""
    if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
        m = _LOCK_PID.search(str(exc))
        return ProjectLocked(Path(db_path).parent, int(m.group(1)) if m else None)
    problem = problem_of(exc)
    return damaged(db_path, problem) if problem else None
