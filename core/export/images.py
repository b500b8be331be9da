"""Put the selected images into an export's image folder: copied, hard-linked or symlinked.

Paths inside the export are relative (`images/ab/<sha256>.<ext>`); a symlink points at its
source by a relative path, so no absolute path of this machine is written anywhere.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from core.export.errors import ExportError

BUF = 1 << 20


def _copy(src: Path | str, dest: Path | str, known: str | None = None) -> str:
    h = hashlib.sha256()
    with open(src, "rb") as fi, open(dest, "wb") as fo:
        while chunk := fi.read(BUF):
            h.update(chunk)
            fo.write(chunk)
    return h.hexdigest()


def _hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(BUF):
            h.update(chunk)
    return h.hexdigest()


def _hardlink(src: Path | str, dest: Path | str, known: str | None = None) -> str:
    try:
        os.link(src, dest)
    except OSError as exc:
        # Another drive, or a file system without hard links: a copy is the honest fallback.
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            return _copy(src, dest)
        raise
    return known or _hash(dest)


def _symlink(src: Path | str, dest: Path | str, known: str | None = None) -> str:
    try:
        target = os.path.relpath(src, os.path.dirname(os.fspath(dest)))
    except ValueError:  # another drive on Windows: no relative path exists
        raise ExportError(
            "symlinked images need the export on the same drive as the project; "
            "use --images copy or hardlink"
        ) from None
    os.symlink(target, dest)
    return known or _hash(dest)


# name -> function(src, dest, known) returning the sha256 of what dest holds. `known` is the
# content address of a file the project itself wrote under its sha256 (media/ copies, checked
# at import and by `mmstudio doctor`): a link to it needs no read, so a linked image folder
# costs metadata, not bytes. Referenced files outside the project are always hashed.
PLACERS: dict[str, Callable[[Path, Path, str | None], str]] = {
    "copy": _copy,
    "hardlink": _hardlink,
    "symlink": _symlink,
}


def place_image(mode: str, src: Path | str, dest: Path | str, known: str | None = None) -> str:
    """Put src at dest (whose folder exists); the sha256 of what dest holds."""
    if mode not in PLACERS:
        raise ExportError(f"unknown image mode {mode!r}; expected one of {', '.join(PLACERS)}")
    return PLACERS[mode](src, dest, known)


def write_bytes(dest: Path | str, data: bytes) -> str:
    """Write a new file (a normalized image); the sha256 of what it holds."""
    with open(dest, "xb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def read_bytes(src: Path) -> bytes:
    with open(src, "rb") as f:
        return f.read()
