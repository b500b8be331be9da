"""Running as the packaged (PyInstaller) app: starting bundled Python modules as children.

A frozen app has no Python interpreter to run `sys.executable -m MODULE` with: `sys.executable`
is the app itself. So the app's executable mimics `python -m` for the few modules the bundle
carries for that purpose (the llama.cpp server): `python_command(module)` gives the command line
in both worlds, and the app's entry calls `run_bundled_module(sys.argv)` before anything else.

The entry also calls `restore_user_environment()`: the bootloader and PyInstaller's runtime
hooks point LD_LIBRARY_PATH, QT_PLUGIN_PATH and friends at the bundle. This process has
already used them (the dynamic loader reads them once, at start; Qt finds its plugins through
the embedded qt.conf), so they are taken out of `os.environ` and no child process — ours,
the user's Python for training, a browser opened by a link — inherits our libraries.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Collection
from pathlib import Path

from core.childenv import ORIG_SUFFIX, bundle_dir, clean_child_env
from core.errors import StudioError

# Modules a frozen app can run as `APP -m MODULE`; build.spec collects them whole.
# llama_child is the managed server's entry (it ties its life to ours, then runs the server).
BUNDLED_MODULES = ("core.backends.llama_child", "llama_cpp.server")
RUN_MODULE_FLAG = "-m"  # the same spelling as Python's, so `sys.executable -m X` keeps working
EXIT_NOT_BUNDLED = 2
# Plain-source copies of `core` and `trainer` inside the bundle, for the user's own Python.
SOURCE_DIR_NAME = "python-src"


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def python_command(module: str) -> list[str]:
    """The command that runs `python -m module` here: this interpreter from a source checkout
    or an installed package; the app's own executable in a frozen app."""
    if is_frozen() and module not in BUNDLED_MODULES:
        raise StudioError(
            f"the packaged app cannot run the Python module {module!r} itself "
            f"(it carries only {', '.join(BUNDLED_MODULES)}); "
            "choose a Python environment that has it installed"
        )
    return [sys.executable, RUN_MODULE_FLAG, module]


def run_bundled_module(argv: list[str], allowed: Collection[str] = BUNDLED_MODULES) -> int | None:
    """Run `argv[2]` as `__main__` when `argv` is `APP -m MODULE ARGS...`; None otherwise.

    The module sees `sys.argv == [MODULE, *ARGS]`, as under `python -m`. A module outside
    `allowed` is refused with a message and exit code 2, never imported.
    """
    if len(argv) < 2 or argv[1] != RUN_MODULE_FLAG:
        return None
    if len(argv) < 3:
        print(f"usage: {Path(argv[0]).name} -m MODULE [ARGS...]", file=sys.stderr)
        return EXIT_NOT_BUNDLED
    module = argv[2]
    if module not in allowed:
        print(
            f"error: the module {module!r} is not part of this app "
            f"(it runs only: {', '.join(allowed)})",
            file=sys.stderr,
        )
        return EXIT_NOT_BUNDLED
    saved = sys.argv
    sys.argv = [module, *argv[3:]]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return int(code or 0)
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved
    return 0


def restore_user_environment() -> None:
    """Take the bundle's own paths out of `os.environ` (frozen app only; see the module doc).

    The user's values saved by the bootloader (`LD_LIBRARY_PATH_ORIG`, ...) stay as well, so
    a launcher that follows PyInstaller's convention of restoring `X` from `X_ORIG` still
    hands the user's value on, rather than dropping `X` because it was already restored.
    """
    if not is_frozen():
        return
    clean = clean_child_env(os.environ)
    saved = {k: v for k, v in os.environ.items() if k.endswith(ORIG_SUFFIX) and k not in clean}
    clean.update((k, v) for k, v in saved.items() if k[: -len(ORIG_SUFFIX)] in clean)
    for key in [k for k in os.environ if k not in clean]:
        del os.environ[key]
    for key, value in clean.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def source_dir() -> Path | None:
    """The folder holding plain `core/` and `trainer/` sources for a foreign Python (the
    trainer's environment): inside the bundle when frozen, the checkout otherwise (None when
    installed without the trainer). Never the bundle's root: that also holds compiled parts
    of numpy, Qt and others that would shadow the user's own packages."""
    bundle = bundle_dir()
    if bundle:
        path = Path(bundle) / SOURCE_DIR_NAME
    else:
        path = Path(__file__).resolve().parent.parent
    return path if (path / "trainer" / "__init__.py").is_file() else None
