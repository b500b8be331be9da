"""Turn the user's paths into a flat, ordered list of things to decode.

Folders are walked depth-first in name order, following symlinks but never entering a folder
twice (tracked by device and inode), so a symlink loop ends the walk instead of hanging it.
Zip entries are addressed by their index in the archive: an entry's name is only a label and
never becomes a path on disk, which is what makes `../` and absolute names harmless.
"""

from __future__ import annotations

import errno
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from core.library.limits import (
    ARCHIVE_SUFFIXES,
    IMAGE_SUFFIXES,
    MAX_FILE_BYTES,
    is_ignored_name,
)


@dataclass(frozen=True)
class Task:
    key: int  # position in the batch; results are handled in this order
    label: str  # what image_sources / rejected record as the path
    path: str  # the file, or the zip archive that holds it
    member: int | None = None  # index into the archive's infolist()


@dataclass(frozen=True)
class Rejection:
    path: str
    reason: str
    detail: str = ""


@dataclass
class ScanResult:
    tasks: list[Task] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def add_task(self, label: str, path: str, member: int | None = None) -> None:
        self.tasks.append(Task(len(self.tasks), label, path, member))

    def reject(self, path: str, reason: str, detail: str = "") -> None:
        self.rejected.append(Rejection(path, reason, detail))


def _stat_error(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink_loop"
    if isinstance(exc, FileNotFoundError):
        return "not_found"
    return "unreadable"


def _suffix(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def scan_inputs(paths: list[Path], skip_dirs: tuple[Path, ...] = ()) -> ScanResult:
    """Expand files, folders and zip archives. `skip_dirs` (the project itself) are ignored."""
    out = ScanResult()
    skip_ids = set()
    for d in skip_dirs:
        try:
            st = os.stat(d)
            skip_ids.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    visited: set[tuple[int, int]] = set()
    for raw in paths:
        path = os.path.abspath(os.fspath(raw))
        try:
            st = os.stat(path)
        except OSError as exc:
            out.reject(path, _stat_error(exc), exc.strerror or str(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            ident = (st.st_dev, st.st_ino)
            if ident in skip_ids:
                out.ignored.append(path)
            elif ident in visited:
                out.reject(path, "duplicate_dir", "folder already walked in this import")
            else:
                _walk(path, ident, visited, skip_ids, out)
        elif stat.S_ISREG(st.st_mode):
            if _suffix(path) in ARCHIVE_SUFFIXES:
                _scan_zip(path, out)
            else:
                out.add_task(path, path)  # named explicitly: decode whatever its suffix
        else:
            out.reject(path, "not_a_file", "not a regular file")
    return out


def _walk(root: str, root_id, visited: set, skip_ids: set, out: ScanResult) -> None:
    # An explicit stack of (entries, ancestors) instead of recursion: deep trees cannot
    # exhaust the interpreter's recursion limit.
    visited.add(root_id)
    stack = [(iter(_listdir(root, out)), frozenset({root_id}))]
    while stack:
        entries, ancestors = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name, path = entry
        if is_ignored_name(name):
            out.ignored.append(path)
            continue
        try:
            st = os.stat(path)
        except OSError as exc:
            out.reject(path, _stat_error(exc), exc.strerror or str(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            ident = (st.st_dev, st.st_ino)
            if ident in skip_ids:
                out.ignored.append(path)
            elif ident in ancestors:
                out.reject(path, "symlink_loop", "leads back to a folder that contains it")
            elif ident in visited:
                out.reject(path, "duplicate_dir", "folder already walked through another path")
            else:
                visited.add(ident)
                stack.append((iter(_listdir(path, out)), ancestors | {ident}))
        elif not stat.S_ISREG(st.st_mode):
            out.reject(path, "not_a_file", "not a regular file (FIFO, socket or device)")
        elif _suffix(name) in ARCHIVE_SUFFIXES:
            _scan_zip(path, out)
        elif _suffix(name) in IMAGE_SUFFIXES:
            out.add_task(path, path)
        else:
            out.reject(path, "unsupported_extension", f"suffix {_suffix(name) or '(none)'!r}")


def _listdir(path: str, out: ScanResult) -> list[tuple[str, str]]:
    try:
        with os.scandir(path) as it:
            names = sorted(e.name for e in it)
    except OSError as exc:
        out.reject(path, "unreadable", f"cannot list folder: {exc.strerror or exc}")
        return []
    return [(n, os.path.join(path, n)) for n in names]


def _scan_zip(path: str, out: ScanResult) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        out.reject(path, "bad_archive", str(exc))
        return
    for index, info in enumerate(infos):
        if info.is_dir():
            continue
        label = f"{path}!{info.filename}"
        parts = [p for p in info.filename.replace("\\", "/").split("/") if p]
        base = parts[-1] if parts else ""
        if any(is_ignored_name(p) for p in parts):
            out.ignored.append(label)
        elif info.flag_bits & 0x1:
            out.reject(label, "encrypted", "password-protected entry")
        elif _suffix(base) in ARCHIVE_SUFFIXES:
            out.reject(label, "nested_archive", "archives inside archives are not expanded")
        elif _suffix(base) not in IMAGE_SUFFIXES:
            out.reject(label, "unsupported_extension", f"suffix {_suffix(base) or '(none)'!r}")
        elif info.file_size > MAX_FILE_BYTES:
            out.reject(label, "too_large", f"{info.file_size} bytes uncompressed")
        else:
            out.add_task(label, path, index)
