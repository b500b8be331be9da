"""The environment for a child process started from the packaged (PyInstaller) app.

A frozen app points library and plugin search paths (LD_LIBRARY_PATH, DYLD_*, QT_PLUGIN_PATH,
PYTHONHOME, PYTHONPATH, ...) at its own bundle. A child that runs the user's Python — the
trainer, the llama.cpp server — must load that environment's libraries, not our copies: a
bundled libstdc++ or Qt plugin inside a foreign interpreter crashes it in ways that are hard
to trace back. So every path inside the bundle is taken out of the child's environment, and the
values PyInstaller saved before it changed them (`LD_LIBRARY_PATH_ORIG`) are put back.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

# The bootloader keeps the user's value under this suffix before prepending the bundle.
ORIG_SUFFIX = "_ORIG"
# Variables the onefile bootloader passes to its own child; a foreign program must not see them.
PYI_PRIVATE_PREFIXES = ("_PYI_", "_MEIPASS2")


def bundle_dir() -> str | None:
    """The folder a frozen app runs from (sys._MEIPASS); None from a source checkout."""
    if not getattr(sys, "frozen", False):
        return None
    return getattr(sys, "_MEIPASS", None)


def clean_child_env(env: Mapping[str, str], bundle: str | os.PathLike | None = None) -> dict:
    """A copy of `env` with no path that points inside `bundle` (default: this app's bundle).

    Saved originals (`X_ORIG`) are restored when `X` points into the bundle; other path-list
    entries inside the bundle are dropped, and a variable left empty is removed. Without a
    bundle (not frozen, none given) the copy is unchanged.
    """
    out = dict(env)
    bundle = bundle if bundle is not None else bundle_dir()
    if not bundle:
        return out
    root = _norm(os.fspath(bundle))
    for key in [k for k in out if k.endswith(ORIG_SUFFIX) and len(k) > len(ORIG_SUFFIX)]:
        base = key[: -len(ORIG_SUFFIX)]
        if base in out and _points_inside(out[base], root):
            out[base] = out.pop(key)
        elif out.get(base) == out[key]:
            del out[key]  # already restored: a foreign child has no use for the copy
    for key in list(out):
        if key.startswith(PYI_PRIVATE_PREFIXES):
            del out[key]
            continue
        entries = out[key].split(os.pathsep)
        kept = [e for e in entries if not _inside(e, root)]
        if len(kept) == len(entries):
            continue
        kept = [e for e in kept if e]
        if kept:
            out[key] = os.pathsep.join(kept)
        else:
            del out[key]
    return out


def _norm(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _inside(entry: str, root: str) -> bool:
    entry = entry.strip()
    # Only absolute paths can point into the bundle; this also leaves URLs and words alone.
    if not entry or not os.path.isabs(entry):
        return False
    path = _norm(entry)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _points_inside(value: str, root: str) -> bool:
    return any(_inside(e, root) for e in value.split(os.pathsep))
