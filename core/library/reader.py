"""Reading one task's bytes, bounded: a file opened without blocking and read to at most
`max_bytes` + 1, or a zip member read the same way from an archive kept open per worker.

Reading is where the filesystem's surprises arrive (FIFOs, files that grow or vanish, lying
zip headers, encrypted members), each turned into a Reject with its reason code; it is apart
from decoding and writing (core.library.worker) because none of those checks involve a picture.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib

from core.library.limits import Reject
from core.library.scan import Task

_zips: dict[str, zipfile.ZipFile] = {}


def close_archives() -> None:
    """Close the archives a previous import left open in this worker."""
    for zf in _zips.values():
        zf.close()
    _zips.clear()


def read(task: Task, max_bytes: int) -> bytes:
    """The bytes of `task` (a file, or a member of a zip archive); Reject when it cannot be
    read, is empty or is larger than `max_bytes`."""
    if task.member is not None:
        return _read_member(task, max_bytes)
    try:
        # O_NONBLOCK: a FIFO that appeared since the scan must not block the worker forever.
        fd = os.open(task.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Reject(
            "not_found" if isinstance(exc, FileNotFoundError) else "unreadable",
            exc.strerror or str(exc),
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Reject("not_a_file", "not a regular file")
        if st.st_size > max_bytes:
            raise Reject("too_large", f"{st.st_size} bytes")
        try:
            data = _read_fd(fd, st.st_size, max_bytes + 1)
        except OSError as exc:
            raise Reject("unreadable", exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise Reject("too_large", f"more than {max_bytes} bytes")
    if not data:
        raise Reject("empty", "zero bytes")
    return data


def _read_fd(fd: int, size: int, limit: int) -> bytes:
    """At most `limit` bytes of `fd`, asked for by the size fstat gave. A buffered
    read(limit) allocates `limit` (1 GiB) up front and faults in fresh pages for every file:
    0.3 ms per 400 kB JPEG against 0.05 ms here. The loop covers short reads and a file that
    grew since fstat (one more byte than the limit is enough to refuse it)."""
    parts = []
    want = min(size + 1, limit)  # +1: reaching EOF in the first read is the common case
    total = 0
    while total < limit:
        chunk = os.read(fd, min(want, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
        want = 1 << 20
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read_member(task: Task, max_bytes: int) -> bytes:
    try:
        zf = _zips.get(task.path)
        if zf is None:
            if len(_zips) >= 4:
                _zips.pop(next(iter(_zips))).close()
            zf = _zips[task.path] = zipfile.ZipFile(task.path)
        info = zf.infolist()[task.member]
        with zf.open(info) as f:
            # The declared size can lie: bound the read itself.
            data = f.read(max_bytes + 1)
    except RuntimeError as exc:  # zipfile's "password required"
        raise Reject("encrypted", str(exc)) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise Reject("bad_archive", f"{type(exc).__name__}: {exc}") from None
    except IndexError:
        raise Reject("bad_archive", "the archive changed during the import") from None
    if len(data) > max_bytes:
        raise Reject("too_large", f"more than {max_bytes} bytes uncompressed")
    if not data:
        raise Reject("empty", "zero bytes")
    return data
