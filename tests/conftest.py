"""Shared fixtures: every test gets its own user-settings folder and offscreen Qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def studio_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("mmstudio-home")
    monkeypatch.setenv("MMSTUDIO_HOME", str(home))
    return home


@pytest.fixture
def project(tmp_path):
    from core.project import Project

    p = Project.create(tmp_path / "proj")
    yield p
    p.close()
