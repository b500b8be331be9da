"""Where things live: bundled resources, per-user settings, and the demo project."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "mmstudio"


def resources_dir() -> Path:
    """The `resources/` folder, from a source checkout or from inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def user_home() -> Path:
    """Per-user settings folder; MMSTUDIO_HOME overrides it (tests, portable installs)."""
    override = os.environ.get("MMSTUDIO_HOME")
    home = (
        Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    )
    home.mkdir(parents=True, exist_ok=True)
    return home


def demo_project_dir() -> Path:
    return user_home() / "demo-project"
