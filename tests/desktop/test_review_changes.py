"""A job or an import that finishes while an image is open: the pane shows what it wrote, the
tiles it touched are re-read, and the reviewer stays where they were (issue 14, "Stale pane")."""

from __future__ import annotations

import pytest

from core.store import browse
from tests.desktop.test_dialogs import _photos
from tests.desktop.test_jobs_panel import add_loop_backend, jobs_project, server  # noqa: F401
from tests.fixtures_loopback import loopback  # noqa: F401  (fixture)

pytestmark = pytest.mark.gui


@pytest.fixture
def review_window(qtbot, jobs_project):  # noqa: F811
    from desktop.main_window import MainWindow

    window = MainWindow(jobs_project)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.is_idle, timeout=5000)
    yield window
    window.shutdown()


def _run(qtbot, window, stage):
    panel = window.panels["jobs"]
    panel.reload_choices()
    panel.form.choose(stage, "selection", backend="loop")
    with qtbot.waitSignal(panel.changed, timeout=30000):
        with qtbot.waitSignal(panel.worker.jobStarted, timeout=15000):
            panel.form.start_button.click()
    qtbot.waitUntil(lambda: not panel.busy() and window.is_idle(), timeout=30000)
    qtbot.wait(30)


def test_a_job_on_the_open_image_shows_in_the_pane_and_keeps_the_place(
    qtbot,
    review_window,
    server,  # noqa: F811
):
    window = review_window
    add_loop_backend(server)
    window.grid.select_row(3)
    qtbot.waitUntil(lambda: window.review.image_id == window.model.image_id(3))
    image_id = window.review.image_id
    assert window.review.cards == [] and window.model.row(3).n_items == 0
    for stage in ("caption", "generate"):
        _run(qtbot, window, stage)
        assert window.review.image_id == image_id
        assert window.grid.current_image() == image_id  # not thrown back to image 1
    stored = browse.instructions_for_image(window.project.db, image_id)
    assert stored and {c.item.id for c in window.review.cards} == {i.id for i in stored}
    assert window.review.caption.text.toPlainText()  # the new caption, shown
    qtbot.waitUntil(lambda: window.model.row(3).n_items == len(stored))


def test_an_import_keeps_the_open_image(qtbot, review_window, tmp_path):
    window = review_window
    window.grid.select_row(4)
    qtbot.waitUntil(lambda: window.review.image_id == window.model.image_id(4))
    image_id = window.review.image_id
    rows = window.model.rowCount()
    window.on_import_images()
    dialog = window.import_dialog
    dialog.add_paths([_photos(tmp_path / "in", 2)])
    with qtbot.waitSignal(dialog.imported, timeout=60000):
        dialog.start()
    qtbot.waitUntil(lambda: window.model.rowCount() == rows + 2, timeout=10000)
    qtbot.waitUntil(window.is_idle, timeout=5000)
    qtbot.wait(30)
    assert window.grid.current_image() == image_id
    assert window.review.image_id == image_id
    dialog.close()


def test_clicking_the_open_tile_reads_it_again(qtbot, review_window):
    """Rows written behind the window's back (the CLI, another process): a click on the
    open image's tile shows them."""
    from PySide6.QtCore import Qt

    window = review_window
    window.grid.select_row(2)
    qtbot.waitUntil(lambda: window.review.image_id == window.model.image_id(2))
    image_id = window.review.image_id
    assert window.review.cards == []
    window.project.db.execute(
        "INSERT INTO instructions (image_id, itype, lang, question, answer, origin, status) "
        "VALUES (?, 'judgement', 'en', 'Is the sign round?', 'no', 'manual', 'new')",
        [image_id],
    )
    tile = window.grid.visualRect(window.model.index(2, 0)).center()
    qtbot.mouseClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=tile)
    qtbot.waitUntil(lambda: len(window.review.cards) == 1, timeout=5000)
    assert window.review.cards[0].item.question == "Is the sign round?"
    qtbot.waitUntil(lambda: window.model.row(2).n_items == 1, timeout=5000)
