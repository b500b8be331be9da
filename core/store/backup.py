"""Automatic backups of a project's database: consistent snapshots, rotation, restore.

A snapshot is written by DuckDB itself (`COPY FROM DATABASE` into a fresh attached file), which
reads one transaction's consistent view: never a byte copy of a file being written, and other
threads may keep working meanwhile. Media are content-addressed and never rewritten, and the
project settings live in the database, so a snapshot of the database is a backup of the project.

Snapshots live in `<project>/backups/` as `<UTC time>-<reason>.duckdb` with a `.json` sidecar.
Rotation keeps the last `backup_keep_last`, the newest of each of the last `backup_keep_days`
days, then drops the oldest until the folder fits `backup_budget_mb` (the newest always stays).
Files set aside by a restore (`before-restore`) are never rotated away: they are the way back.

Others call `snapshot(project, reason)` before a bulk change (delete, bulk edit, QA import).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from core.errors import ProjectError

BACKUP_DIR = "backups"
DB_NAME = "project.duckdb"
KEPT_ASIDE = "before-restore"
# Project settings this module reads (core.project.DEFAULT_SETTINGS includes them).
DEFAULTS = {
    "backup_keep_last": 10,
    "backup_keep_days": 7,
    "backup_budget_mb": 2048,
    "backup_interval_min": 10,
    "backup_on_close": True,
}
_REASON = re.compile(r"[^a-z0-9]+")
_lock = threading.Lock()
_alias = itertools.count(1)


@dataclass
class Snapshot:
    name: str  # file name in backups/
    path: Path
    reason: str
    created_at: datetime
    bytes: int
    schema_version: int | None = None
    source: list | None = None  # (mtime_ns, size) of project.duckdb when it was taken

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "path": str(self.path),
            "reason": self.reason,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "bytes": self.bytes,
            "schema_version": self.schema_version,
        }


def backups_dir(root: Path) -> Path:
    return Path(root) / BACKUP_DIR


def _db_of(target):
    return getattr(target, "db", target)


def _settings(db) -> dict:
    merged = dict(DEFAULTS)
    try:
        raw = db.scalar("SELECT value FROM meta WHERE key = 'settings'")
    except duckdb.Error:
        raw = None
    if raw:
        stored = json.loads(raw)
        merged.update({k: stored[k] for k in DEFAULTS if k in stored})
    return merged


def _fingerprint(db_path: Path) -> list | None:
    """(mtime_ns, size) of the database once checkpointed; None while a WAL holds changes."""
    if Path(str(db_path) + ".wal").exists() or not db_path.exists():
        return None
    st = db_path.stat()
    return [st.st_mtime_ns, st.st_size]


def _checkpoint(db) -> None:
    try:
        db.execute("CHECKPOINT")
    except duckdb.Error:
        pass  # another thread's open transaction: the WAL then says "changed", which is safe


# listing ---------------------------------------------------------------------------------
def list_snapshots(root: Path) -> list[Snapshot]:
    """Every snapshot in the project's backups/, newest first. Needs no open database, so it
    works on a project whose file is damaged."""
    folder = backups_dir(root)
    if not folder.is_dir():
        return []
    out = []
    for path in folder.glob("*.duckdb"):
        meta = {}
        side = path.with_suffix(".json")
        if side.is_file():
            try:
                meta = json.loads(side.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
        try:
            created = datetime.fromisoformat(meta["created_at"])
        except (KeyError, TypeError, ValueError):
            created = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        out.append(
            Snapshot(
                name=path.name,
                path=path,
                reason=str(meta.get("reason", "unknown")),
                created_at=created,
                bytes=path.stat().st_size,
                schema_version=meta.get("schema_version"),
                source=meta.get("source"),
            )
        )
    out.sort(key=lambda s: (s.created_at, s.name), reverse=True)
    return out


def newest_restorable(root: Path) -> Snapshot | None:
    """The newest snapshot that is a real backup (a file set aside by a restore may be the
    damaged one)."""
    return next((s for s in list_snapshots(root) if s.reason != KEPT_ASIDE), None)


def find(root: Path, name: str | None) -> Snapshot:
    snaps = list_snapshots(root)
    if name is None:
        best = newest_restorable(root)
        if best is None:
            raise ProjectError(f"{root} has no backups (nothing in {backups_dir(root)})")
        return best
    for s in snaps:
        if name in (s.name, Path(s.name).stem):
            return s
    names = ", ".join(s.name for s in snaps[:5]) or "none"
    raise ProjectError(f"no backup called {name!r} in {backups_dir(root)} (newest: {names})")


# taking snapshots ------------------------------------------------------------------------
def _new_name(folder: Path, reason: str, now: datetime) -> str:
    slug = _REASON.sub("-", reason.lower()).strip("-")[:40] or "manual"
    base = f"{now.strftime('%Y%m%d-%H%M%S-%f')}-{slug}"
    name, n = f"{base}.duckdb", 1
    while (folder / name).exists():
        n += 1
        name = f"{base}-{n}.duckdb"
    return name


def _write_sidecar(snap: Snapshot) -> None:
    meta = snap.to_json() | {"source": snap.source}
    del meta["path"]
    tmp = snap.path.with_suffix(".json.part")
    tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    os.replace(tmp, snap.path.with_suffix(".json"))


def snapshot(target, reason: str, *, rotate_after: bool = True) -> Snapshot:
    """A consistent copy of the project's database now. `target` is a Project or a Database;
    call it outside a transaction (DuckDB cannot ATTACH inside one)."""
    db = _db_of(target)
    db_path = Path(db.path)
    folder = backups_dir(db_path.parent)
    folder.mkdir(exist_ok=True)
    with _lock:
        _checkpoint(db)
        now = datetime.now(UTC)
        name = _new_name(folder, reason, now)
        part = folder / (name + ".part")
        alias = f"mmstudio_backup_{os.getpid()}_{next(_alias)}"
        cur = db.cursor()
        source_name = cur.execute("SELECT current_database()").fetchall()[0][0]
        try:
            cur.execute(f"ATTACH '{_sql_path(part)}' AS {alias}")
            try:
                cur.execute(f'COPY FROM DATABASE "{source_name}" TO {alias}')
            finally:
                cur.execute(f"DETACH {alias}")
            os.replace(part, folder / name)
        except (duckdb.Error, OSError) as exc:
            for leftover in (part, Path(str(part) + ".wal")):
                leftover.unlink(missing_ok=True)
            from core.store.damage import translate

            better = translate(exc, db_path)  # reading the project hit a damaged block
            raise (
                better or ProjectError(f"could not write a backup into {folder}: {exc}")
            ) from None
        snap = Snapshot(
            name=name,
            path=folder / name,
            reason=reason,
            created_at=now,
            bytes=(folder / name).stat().st_size,
            schema_version=db.version(),
            source=_fingerprint(db_path),
        )
        _write_sidecar(snap)
    if rotate_after:
        s = _settings(db)
        rotate(db_path.parent, s["backup_keep_last"], s["backup_keep_days"], s["backup_budget_mb"])
    return snap


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def changed_since_backup(target) -> bool:
    db = _db_of(target)
    newest = newest_restorable(Path(db.path).parent)
    if newest is None:
        return True
    current = _fingerprint(Path(db.path))
    return current is None or current != newest.source


def snapshot_if_changed(target, reason: str) -> Snapshot | None:
    db = _db_of(target)
    _checkpoint(db)
    return snapshot(target, reason) if changed_since_backup(db) else None


def snapshot_if_due(target, reason: str = "scheduled", now: datetime | None = None):
    """The scheduled backup: when the newest is older than `backup_interval_min` and the
    database changed since. The GUI calls it from a timer; returns the snapshot or None."""
    db = _db_of(target)
    minutes = _settings(db)["backup_interval_min"]
    if not minutes or minutes <= 0:
        return None
    newest = newest_restorable(Path(db.path).parent)
    now = now or datetime.now(UTC)
    if newest is not None and now - newest.created_at < timedelta(minutes=minutes):
        return None
    return snapshot_if_changed(db, reason)


def on_close(target) -> Snapshot | None:
    """The backup taken when a project closes, if enabled and anything changed."""
    db = _db_of(target)
    if not _settings(db)["backup_on_close"]:
        return None
    return snapshot_if_changed(db, "close")


# rotation --------------------------------------------------------------------------------
def rotate(root: Path, keep_last: int, keep_days: int, budget_mb: float) -> list[str]:
    """Delete the snapshots the policy no longer keeps; returns their names."""
    snaps = [s for s in list_snapshots(root) if s.reason != KEPT_ASIDE]
    keep: list[Snapshot] = snaps[: max(1, keep_last)]
    if snaps and keep_days > 0:
        cutoff = snaps[0].created_at.date() - timedelta(days=keep_days - 1)
        seen_days = set()
        for s in snaps:  # newest first: the first one met on a day is that day's newest
            day = s.created_at.date()
            if day >= cutoff and day not in seen_days:
                seen_days.add(day)
                if s not in keep:
                    keep.append(s)
    keep.sort(key=lambda s: s.created_at, reverse=True)
    budget = budget_mb * 1024 * 1024
    while len(keep) > 1 and sum(s.bytes for s in keep) > budget:
        keep.pop()  # the oldest
    removed = []
    for s in snaps:
        if s not in keep:
            s.path.unlink(missing_ok=True)
            s.path.with_suffix(".json").unlink(missing_ok=True)
            removed.append(s.name)
    return removed


# restore ---------------------------------------------------------------------------------
@dataclass
class Restored:
    snapshot: Snapshot
    kept_aside: str | None  # name of the snapshot holding the file that was replaced

    def to_json(self) -> dict:
        return {"restored": self.snapshot.to_json(), "kept_aside": self.kept_aside}


def _check_not_open(db_path: Path) -> None:
    from core.errors import ProjectLocked
    from core.store.db import is_open_here

    if is_open_here(db_path):
        raise ProjectLocked(db_path.parent, os.getpid(), "this window")
    if not db_path.exists():
        return
    try:
        duckdb.connect(str(db_path)).close()
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            from core.store.damage import translate

            raise translate(exc, db_path) from None
        # Damaged: that is what restore is for.


def _check_readable(snap: Snapshot) -> None:
    try:
        con = duckdb.connect(str(snap.path), read_only=True)
        try:
            con.execute("SELECT max(version) FROM schema_version").fetchone()
        finally:
            con.close()
    except duckdb.Error as exc:
        raise ProjectError(
            f"backup {snap.name} cannot be read either ({str(exc).splitlines()[0]}); "
            "choose another with `mmstudio backup list`"
        ) from None


def restore(root: Path, name: str | None = None) -> Restored:
    """Put snapshot `name` (default: the newest backup) in place of project.duckdb. The
    current file (and its WAL) is first moved into backups/ as a `before-restore` snapshot,
    so restoring that one undoes this. The project must not be open anywhere."""
    root = Path(root).expanduser().resolve()
    db_path = root / DB_NAME
    snap = find(root, name)
    _check_not_open(db_path)
    _check_readable(snap)
    folder = backups_dir(root)
    kept = None
    if db_path.exists():
        now = datetime.now(UTC)
        kept = _new_name(folder, KEPT_ASIDE, now)
        aside = folder / kept
        os.replace(db_path, aside)
        wal = Path(str(db_path) + ".wal")
        if wal.exists():
            os.replace(wal, Path(str(aside) + ".wal"))  # opening the aside file replays it
        _write_sidecar(Snapshot(kept, aside, KEPT_ASIDE, now, aside.stat().st_size, source=None))
    part = root / (DB_NAME + ".restore-part")
    shutil.copyfile(snap.path, part)
    with open(part, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(part, db_path)
    return Restored(snap, kept)
