"""core.frozen: child commands and environment in a source checkout and as a frozen app.

The frozen cases set `sys.frozen` / `sys._MEIPASS` as PyInstaller's bootloader does; the real
bundle is exercised end to end in tests/package.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from core import frozen
from core.errors import StudioError


@pytest.fixture
def as_frozen(tmp_path, monkeypatch):
    bundle = tmp_path / "app" / "_internal"
    bundle.mkdir(parents=True)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    return bundle


@pytest.fixture
def saved_environ():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def scratch_module(tmp_path, monkeypatch):
    """A real package `probe_mod` whose __main__ records its argv and exits with a code."""
    pkg = tmp_path / "mods" / "probe_mod"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    out = tmp_path / "argv.txt"
    (pkg / "__main__.py").write_text(
        textwrap.dedent(
            f"""
            import sys
            open({str(out)!r}, "w").write("\\n".join(sys.argv[1:]))
            if "--fail" in sys.argv:
                sys.exit(3)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    return out


def test_python_command_from_a_checkout_is_this_interpreter():
    assert frozen.python_command("trainer") == [sys.executable, "-m", "trainer"]


def test_python_command_frozen_runs_bundled_modules_through_the_app(as_frozen):
    cmd = frozen.python_command("core.backends.llama_child")
    assert cmd == [sys.executable, "-m", "core.backends.llama_child"]
    with pytest.raises(StudioError, match="cannot run the Python module 'trainer'"):
        frozen.python_command("trainer")


def test_run_bundled_module_ignores_ordinary_arguments():
    assert frozen.run_bundled_module(["mmstudio"]) is None
    assert frozen.run_bundled_module(["mmstudio", "gui", "-m", "x"]) is None


def test_run_bundled_module_runs_an_allowed_module_with_its_arguments(scratch_module):
    argv = ["mmstudio", "-m", "probe_mod", "--port", "8080", "a b"]
    assert frozen.run_bundled_module(argv, allowed=("probe_mod",)) == 0
    assert scratch_module.read_text().split("\n") == ["--port", "8080", "a b"]
    assert sys.argv[0] != "probe_mod"  # our own argv is put back


def test_run_bundled_module_passes_on_the_exit_code(scratch_module):
    assert frozen.run_bundled_module(["app", "-m", "probe_mod", "--fail"], {"probe_mod"}) == 3


def test_run_bundled_module_refuses_others_without_importing(scratch_module, capsys):
    assert frozen.run_bundled_module(["app", "-m", "probe_mod"], allowed=("other",)) == 2
    assert "'probe_mod' is not part of this app" in capsys.readouterr().err
    assert not scratch_module.exists()
    assert frozen.run_bundled_module(["app", "-m"]) == 2


def test_restore_user_environment_takes_the_bundle_out(as_frozen, saved_environ):
    bundle = str(as_frozen)
    os.environ.update(
        LD_LIBRARY_PATH=f"{bundle}:/opt/user-libs",
        LD_LIBRARY_PATH_ORIG="/opt/user-libs",
        QT_PLUGIN_PATH=f"{bundle}/PySide6/Qt/plugins",
        PATH=f"{bundle}:/usr/bin",
        _PYI_ARCHIVE_FILE=f"{bundle}/../mmstudio",
        MMSTUDIO_KEEP="/opt/data",
    )
    frozen.restore_user_environment()
    assert os.environ["LD_LIBRARY_PATH"] == "/opt/user-libs"
    # kept for launchers that restore X from X_ORIG themselves (PyInstaller's convention)
    assert os.environ["LD_LIBRARY_PATH_ORIG"] == "/opt/user-libs"
    assert "QT_PLUGIN_PATH" not in os.environ
    assert os.environ["PATH"] == "/usr/bin"
    assert not [k for k in os.environ if k.startswith("_PYI_")]
    assert os.environ["MMSTUDIO_KEEP"] == "/opt/data"
    # and a real child started with a plain os.environ sees the cleaned values
    out = subprocess.run(
        ["/bin/sh", "-c", 'printf "%s|%s" "$LD_LIBRARY_PATH" "${QT_PLUGIN_PATH-unset}"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == "/opt/user-libs|unset"


def test_restore_user_environment_is_a_no_op_from_a_checkout(saved_environ, tmp_path):
    os.environ["LD_LIBRARY_PATH"] = f"{tmp_path}:/opt/x"
    frozen.restore_user_environment()
    assert os.environ["LD_LIBRARY_PATH"] == f"{tmp_path}:/opt/x"


def test_source_dir_is_the_checkout_or_the_bundles_plain_copy(as_frozen, monkeypatch):
    assert frozen.source_dir() is None  # a bundle built without python-src
    (as_frozen / "python-src" / "trainer").mkdir(parents=True)
    (as_frozen / "python-src" / "trainer" / "__init__.py").write_text("")
    assert frozen.source_dir() == as_frozen / "python-src"
    monkeypatch.setattr(sys, "frozen", False)
    assert (frozen.source_dir() / "core" / "frozen.py").is_file()
