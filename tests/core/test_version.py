"""The version lives in core/__init__.py only; packaging, the CLI and the changelog follow it.

(The packaged app's `--version` is checked against it in tests/package/test_bundle.py.)
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from core import __version__

REPO = Path(__file__).resolve().parents[2]


def test_version_is_a_release_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?", __version__)


def test_pyproject_reads_the_version_from_core():
    doc = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in doc["project"], "a second, static version in pyproject.toml"
    assert "version" in doc["project"]["dynamic"]
    assert doc["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "core.__version__"}
    # and setuptools really resolves it to the same string (what a wheel build would use)
    from setuptools.config.pyprojecttoml import read_configuration

    resolved = read_configuration(REPO / "pyproject.toml", expand=True)
    assert resolved["project"]["version"] == __version__


def test_cli_reports_the_version():
    out = subprocess.run(
        [sys.executable, "-m", "core", "--version"], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"mmstudio {__version__}"


def test_changelog_has_a_section_for_this_version():
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(__version__)}\]", text, re.M), "no changelog section"
