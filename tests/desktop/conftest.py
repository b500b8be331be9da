"""A real project (rows, image files, thumbnails) and the real main window over it, offscreen."""

from __future__ import annotations

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
