from __future__ import annotations

import pytest

from tests.export.helpers import build_project


@pytest.fixture
def proj(tmp_path):
    p = build_project(tmp_path / "proj")
    yield p
    p.close()
