"""Projects in the GUI: the start page's next steps on an empty, fresh or captioned project;
File › New / Open / Recent through the real dialogs' code (the folder injected); switching
projects in place (no stale rows, the old project closed, a locked one refused with a clear
message); the layout and filters remembered per project."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QPushButton, QSplitter

from core.backends.settings import BackendConfig, add_backend
from core.project import Project
from core.store import browse
from tests.desktop import test_training_panel as training
from tests.desktop.conftest import wait_idle

# The Training tab's fixtures (a real export, a tiny random-weight LLaVA), shared.
exported, tiny_llava = training.exported, training.tiny_llava

pytestmark = pytest.mark.gui


@pytest.fixture
def session(qtbot):
    from desktop.project_session import ProjectSession

    s = ProjectSession(warn=lambda title, text: s.warned.append((title, text)))
    s.warned = []
    yield s
    s.close()


def steps_of(qtbot, window) -> list[tuple[str, int]]:
    page = window.panels["start"]
    qtbot.waitUntil(lambda: page.steps is not None and not page.busy(), timeout=10_000)
    return page.steps


def step_label(window, name: str) -> str:
    return window.panels["start"].findChild(QLabel, f"step_{name}").text()


def grid_ids(window) -> set[int]:
    return {window.model.image_id(r) for r in range(window.model.rowCount())}


def test_an_empty_project_opens_on_the_start_page_with_what_to_do_first(qtbot, tmp_path, session):
    window = session.show(Project.create(tmp_path / "fresh"))
    wait_idle(qtbot, window)
    assert window.tabs.currentWidget() is window.panels["start"]
    assert steps_of(qtbot, window) == [("add_backend", 0), ("import", 0)]
    assert "add a backend" in step_label(window, "add_backend")
    assert "import a folder of images" in step_label(window, "import")
    window.panels["start"].findChild(QPushButton, "do_import").click()
    assert window.import_dialog.isVisible()
    window.import_dialog.close()
    window.panels["start"].findChild(QPushButton, "do_add_backend").click()
    assert window.settings_dialog.isVisible()  # where a model is added
    window.settings_dialog.close()
    window.settings_dialog.wait()


def test_a_captioned_project_says_caption_the_rest_and_review(qtbot, review_project, session):
    add_backend(BackendConfig(name="local", kind="openai", model="m", base_url="http://x/v1"))
    window = session.show(review_project)
    wait_idle(qtbot, window)
    assert window.tabs.currentIndex() == 0  # images to review: the grid comes first
    steps = dict(steps_of(qtbot, window))
    assert list(steps) == ["caption", "review"] and steps["caption"] == 3
    assert step_label(window, "caption") == "3 images have no caption: run the caption stage."
    assert f"{steps['review']} instructions wait" in step_label(window, "review")
    window.panels["start"].findChild(QPushButton, "do_caption").click()
    assert window.tabs.currentWidget() is window.panels["jobs"]
    assert window.panels["jobs"].form.stage.currentData() == "caption"


def test_new_open_and_recent_switch_projects_without_stale_rows(
    qtbot, review_project, tmp_path, session, monkeypatch
):
    from desktop.views.project_menu import fill_recent

    first = session.show(review_project)
    wait_idle(qtbot, first)
    old_root = review_project.root
    assert len(grid_ids(first)) == 12
    chosen = {"folder": str(tmp_path / "second")}
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: chosen["folder"])

    first.project_actions["new"].trigger()  # File › New project…
    second = session.window
    assert second is not first and session.project.root == (tmp_path / "second").resolve()
    assert review_project.db._closed  # the old project was closed, its lock released
    wait_idle(qtbot, second)
    assert second.model.rowCount() == 0 and second.review.image_id is None
    assert len(browse.domain_entries(second.project.db)) == 24  # defaults, as `mmstudio init`
    assert second.windowTitle().endswith("second")
    assert second.tabs.currentWidget() is second.panels["start"]

    chosen["folder"] = str(old_root)
    second.project_actions["open"].trigger()  # File › Open project…
    third = session.window
    wait_idle(qtbot, third)
    with_ids = {r[0] for r in third.project.db.fetchall("SELECT id FROM images")}
    assert grid_ids(third) == with_ids and len(with_ids) == 12
    assert third.review.image_id in with_ids

    page = third.panels["start"]
    page.show_recent()
    recent = [page.recent.item(i).toolTip() for i in range(page.recent.count())]
    assert recent == [str(old_root), str((tmp_path / "second").resolve())]
    menu = third.project_actions["recent"]
    fill_recent(third, menu)
    actions = menu.actions()
    assert [a.isChecked() for a in actions] == [True, False]
    actions[1].trigger()  # File › Open recent › second
    assert session.project.root == (tmp_path / "second").resolve()
    wait_idle(qtbot, session.window)
    assert session.window.model.rowCount() == 0


def test_a_locked_or_missing_project_is_refused_and_the_window_stays(
    qtbot, holder, tmp_path, session
):
    path, proc = holder
    window = session.show(Project.create(tmp_path / "mine"))
    wait_idle(qtbot, window)
    assert session.switch(path) is False
    title, text = session.warned[-1]
    assert "already open in another window" in text and f"process {proc.pid}" in text
    assert session.window is window and not window.project.db._closed
    assert session.switch(tmp_path / "nothing-here") is False
    assert "is not a project" in session.warned[-1][1]
    assert session.switch(tmp_path / "mine") is False  # the one already open
    assert "already open" in window.statusBar().currentMessage()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    assert session.new_project(tmp_path / "full") is False
    assert "not empty" in session.warned[-1][1]
    assert session.window is window


def test_layout_filters_and_tab_are_remembered_per_project(
    qtbot, review_project, tmp_path, session
):
    window = session.show(review_project)
    wait_idle(qtbot, window)
    bar = window.filter_bar
    bar.item_status.setCurrentIndex(bar.item_status.findData("needs_review"))
    window.sidebar.select("art")
    wait_idle(qtbot, window)
    # A size the screen holds (restoreGeometry fits a window into the screen it opens on).
    room = window.screen().availableGeometry()
    window.resize(room.width() * 3 // 4, room.height() * 3 // 4)
    QApplication.processEvents()
    browse_split = window.findChild(QSplitter, "browseSplit")
    browse_split.setSizes([150, 450, 500])
    saved_sizes = browse_split.sizes()  # what the splitter made of them at this width
    saved_size = window.size()
    expected = window.filters.query
    assert expected.domain == "art" and expected.item_status == "needs_review"
    shown = grid_ids(window)

    Project.create(tmp_path / "other").close()
    assert session.switch(tmp_path / "other")
    other = session.window
    wait_idle(qtbot, other)
    assert other.filters.query == browse.ImageQuery()  # a project of its own: no filters
    assert session.switch(review_project.root)
    back = session.window
    wait_idle(qtbot, back)
    assert back.filters.query == expected
    assert back.filter_bar.item_status.currentData() == "needs_review"
    assert back.sidebar.list.currentItem().data(Qt.ItemDataRole.UserRole) == "art"
    assert grid_ids(back) == shown
    assert back.findChild(QSplitter, "browseSplit").sizes() == saved_sizes
    assert back.size() == saved_size
    assert back.tabs.currentIndex() == 0


def _looks_drawn(image) -> bool:
    """Colours, not sizes: a blank or unpainted grab has only a few."""
    step_x, step_y = max(1, image.width() // 80), max(1, image.height() // 60)
    colours = {
        image.pixel(x, y)
        for x in range(0, image.width(), step_x)
        for y in range(0, image.height(), step_y)
    }
    return len(colours) > 8


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_start_page_pictures(qtbot, review_project, session, lang):
    """Kept as tests/screenshots/start_page_<lang>.png for a person to look at."""
    from desktop import strings
    from tests.conftest import REPO

    strings.set_language(lang)
    window = session.show(review_project)
    window.show_panel("start")
    wait_idle(qtbot, window)
    steps_of(qtbot, window)
    quit_text = "退出" if lang == "zh" else "Quit"
    assert window.menus["File"].actions()[-1].text() == quit_text  # Quit stays last
    out = REPO / "tests" / "screenshots"
    out.mkdir(exist_ok=True)
    image = window.grab().toImage()
    assert image.save(str(out / f"start_page_{lang}.png"))
    assert _looks_drawn(image)
    if lang == "zh":
        assert step_label(window, "caption") == "3 张图像没有描述：请运行描述阶段。"


@pytest.mark.train
def test_switching_away_from_a_training_run_asks_then_stops_it(
    qtbot, exported, tiny_llava, tmp_path, monkeypatch
):
    """A real trainer child: the switch asks first; declined, nothing changes; accepted, the
    child is stopped (the run reads interrupted, resumable) and the new project opens."""
    import json

    from desktop.project_session import ProjectSession

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    answers, asked = [False, True], []
    session = ProjectSession(
        warn=lambda t, m: asked.append(m), confirm=lambda t, m: asked.append(m) or answers.pop(0)
    )
    try:
        window = session.show(exported)
        panel = window.panels["training"]
        training.configure(panel, tiny_llava, 400)
        run = panel.start()
        qtbot.waitUntil(lambda: panel.monitor.metrics.step >= 1, timeout=120_000)
        Project.create(tmp_path / "next").close()
        assert session.switch(tmp_path / "next") is False
        assert "a training run is going" in asked[-1] and session.window is window
        assert panel.process.running()
        assert session.switch(tmp_path / "next") is True
        assert session.project.root == (tmp_path / "next").resolve()
        status = json.loads((run / "status.json").read_text())
        assert status["state"] in ("running", "interrupted")  # killed: left as it was
        from desktop.models.run_metrics import effective_state, read_status

        qtbot.waitUntil(lambda: effective_state(read_status(run)) == "interrupted", timeout=30_000)
    finally:
        session.close()


def test_without_a_path_the_app_opens_the_last_project(tmp_path):
    import shutil

    from desktop.app import open_project
    from desktop.project_memory import ProjectMemory

    Project.create(tmp_path / "last").close()
    Project.create(tmp_path / "gone").close()
    memory = ProjectMemory()
    memory.add_recent(tmp_path / "last")
    memory.add_recent(tmp_path / "gone")
    shutil.rmtree(tmp_path / "gone")  # deleted since: skipped, not an error
    assert ProjectMemory().last_project() == (tmp_path / "last").resolve()
    with open_project(None) as project:
        assert project.root == (tmp_path / "last").resolve()
