"""The Collect, Curate and Balance tests again on a real X server (Xvfb, the xcb platform),
not only offscreen: the same windows, fake Openverse and tiny CLIP, in a child pytest."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]
XVFB_RUN = shutil.which("xvfb-run")
REPO = Path(__file__).resolve().parents[2]
FILES = ["tests/desktop/test_collect_flow.py", "tests/desktop/test_collect_panel.py",
         "tests/desktop/test_curate_panel.py"]  # fmt: skip


@pytest.mark.skipif(XVFB_RUN is None, reason="xvfb-run is missing (./dev test installs it)")
def test_collect_curate_balance_under_xvfb():
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    out = subprocess.run(
        [XVFB_RUN, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m", "pytest", "-q",
         "-p", "no:cacheprovider", *FILES],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert " passed" in out.stdout and "failed" not in out.stdout
