"""The real entry point, `mmstudio gui`, on a real X server (Xvfb): it opens, paints, grabs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = [pytest.mark.gui, pytest.mark.slow]

XVFB_RUN = shutil.which("xvfb-run")
needs_xvfb = pytest.mark.skipif(
    XVFB_RUN is None, reason="xvfb-run is missing (./dev test installs the xvfb package)"
)


def _mmstudio() -> list[str]:
    script = Path(sys.executable).parent / "mmstudio"
    return [str(script)] if script.exists() else [sys.executable, "-m", "core"]


def _launch(args, shot: Path, timeout=180):
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", MMSTUDIO_SCREENSHOT=str(shot))
    return subprocess.run(
        [XVFB_RUN, "-a", "-s", "-screen 0 1600x1000x24", *_mmstudio(), "gui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _keep(shot: Path, name: str) -> None:
    """A copy beside the other screenshots, for a person to look at."""
    folder = Path(__file__).resolve().parent.parent / "screenshots"
    folder.mkdir(exist_ok=True)
    shutil.copy(shot, folder / name)


def _check_main_window(shot: Path, out) -> QImage:
    assert out.returncode == 0, out.stderr[-3000:]
    assert "screenshot saved" in out.stderr and "MMInstruct Studio" in out.stderr
    image = QImage(str(shot))
    assert not image.isNull()  # its size is the window manager's business, not checked
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 9) for y in range(0, image.height(), 9)
    }
    assert len(colours) > 50  # menus, thumbnails, the picture: not an empty frame
    return image


@needs_xvfb
def test_gui_opens_a_project_under_xvfb(review_project, tmp_path):
    path = review_project.root
    review_project.close()  # the app must own the project
    shot = tmp_path / "xvfb-main.png"
    out = _launch([str(path)], shot)
    _check_main_window(shot, out)
    _keep(shot, "11_xvfb_main.png")


@needs_xvfb
def test_gui_without_project_opens_the_demo(tmp_path, studio_home):
    shot = tmp_path / "xvfb-demo.png"
    out = _launch([], shot, timeout=400)
    _check_main_window(shot, out)
    assert (studio_home / "demo-project" / "project.duckdb").is_file()
    _keep(shot, "12_xvfb_demo.png")
