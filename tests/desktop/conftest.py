"""A real project (rows, image files, thumbnails) and the real main window over it, offscreen."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.review_data import populate

pytest.importorskip("pytestqt")


@pytest.fixture
def review_project(project):
    populate(project, n_images=12, files=True)
    return project


def wait_idle(qtbot, window, timeout=5000):
    qtbot.waitUntil(window.is_idle, timeout=timeout)
    qtbot.wait(20)  # let queued deliveries (thumbnails, pictures) paint


@pytest.fixture
def window(qtbot, review_project):
    from desktop.main_window import MainWindow

    w = MainWindow(review_project)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=3000)
    wait_idle(qtbot, w)
    w.grid.setFocus()
    yield w
    w.shutdown()


@pytest.fixture
def holder(review_project):
    """Another process holding the project open, as a second window would find it."""
    path = review_project.root
    review_project.close()
    code = textwrap.dedent(
        f"""
        import sys, time
        from core.project import Project
        p = Project.open({str(path)!r})
        print("ready", flush=True)
        sys.stdin.readline()
        p.close()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    yield path, proc
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.fixture(autouse=True)
def english_ui():
    """Every test starts, and leaves, the UI in English (a test may switch to Chinese)."""
    from desktop import strings

    strings.set_language("en")
    yield
    strings.set_language("en")
