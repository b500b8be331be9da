"""The Curate tab in the real window over a project built here (real files, perceptual near
duplicates from the importer) with the tiny random CLIP: the embedding job with cancel and
resume, duplicate groups settled by one key and undone, off-domain rejection, more like this
in the project and in a pool folder, and text search."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.domains import add_domain
from core.library.importer import import_paths
from core.project import Project
from tests.collect.test_clip import variant
from tests.core.import_fixtures import photo, save
from tests.desktop.conftest import wait_idle

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    import torch

    from tests.collect.tiny_clip import build_tiny_clip

    torch.set_num_threads(1)
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture
def curate_project(tmp_path):
    project = Project.create(tmp_path / "proj")
    add_domain(project.db, "animals", "Animals", "Pictures of animals", ["fox", "dog"])
    add_domain(project.db, "cars", "Cars", keywords=["red car"])
    for domain, base in (("animals", 0), ("cars", 50)):
        folder = tmp_path / domain
        paths = [save(photo(base + i), folder / f"{i}.png") for i in range(4)]
        paths.append(save(variant(photo(base)), folder / "near.jpg"))
        import_paths(project, paths, domain=domain, workers=0)
    yield project
    project.close()


@pytest.fixture
def curate(qtbot, curate_project, tiny_clip, monkeypatch):
    from desktop.main_window import MainWindow
    from desktop.workers import clip_worker

    monkeypatch.setattr(clip_worker, "job_threads", lambda: 1)
    w = MainWindow(curate_project)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    panel = w.panels["curate"]
    panel.set_model(str(tiny_clip))
    w.show_panel("curate")
    yield w, panel
    qtbot.waitUntil(lambda: not panel.busy(), timeout=20000)
    w.shutdown()


def _job(qtbot, panel, start, name):
    with qtbot.waitSignal(panel.jobDone, timeout=60000,
                          check_params_cb=lambda n, _s: n == name) as got:  # fmt: skip
        start()
    return got.args[1]


def _vectors(project):
    from core.store import embeddings as estore

    return sum(m.vectors for m in estore.list_models(project.db))


def test_embedding_job_cancels_and_resumes(qtbot, curate):
    window, panel = curate
    panel.batch.setValue(1)

    def click_and_cancel():
        panel.embed_button.click()
        assert panel.cancel_button.isEnabled() and not panel.embed_button.isEnabled()
        panel.cancel_button.click()

    first = _job(qtbot, panel, click_and_cancel, "embed")
    assert first.cancelled and first.embedded < 10
    second = _job(qtbot, panel, panel.embed_button.click, "embed")
    assert (second.embedded, second.already, second.cancelled) == (10 - first.embedded,
                                                                    first.embedded, False)  # fmt: skip
    assert _vectors(window.project) == 10
    assert "10 of 10" in panel.status.text()
    assert panel.embed_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_duplicates_one_key_undo_and_keep_all(qtbot, curate):
    window, panel = curate
    page = panel.dups
    panel.pages.setCurrentWidget(page)
    page.load()
    qtbot.waitUntil(lambda: len(page.groups) == 2, timeout=10000)
    first = page.groups[0]
    keeper, other = first.ids
    wait_idle(qtbot, window)
    from tests.desktop.test_screenshots import save as shot

    shot(window, "21_curate_duplicates")
    page.tiles.setFocus()
    qtbot.keyClick(page.tiles, Qt.Key.Key_1)  # keep the first, reject the rest
    status = dict(window.project.db.fetchall("SELECT id, status FROM images"))
    assert status[other] == "rejected" and status[keeper] == "new"
    assert len(page.groups) == 1 and "1 of 1" in page.counter.text()
    window.on_undo()
    assert window.project.db.scalar("SELECT status FROM images WHERE id = ?", [other]) == "new"

    qtbot.keyClick(page.tiles, Qt.Key.Key_A)  # the window's "accept item" must not fire here
    assert page.groups == [] and "No near-duplicate" in page.counter.text()
    statuses = {s for (s,) in window.project.db.fetchall("SELECT status FROM images")}
    assert statuses == {"new"}
    page.load()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=10000)
    assert [g.ids for g in page.groups] == [first.ids]  # the undone group is offered again

    page.kind.setCurrentIndex(page.kind.findData("embedding"))
    page.threshold.setValue(0.99)
    _job(qtbot, panel, page.find_button.click, "groups")
    qtbot.waitUntil(lambda: not panel.busy(), timeout=10000)
    assert page.groups and all(g.kind == "embedding" for g in page.groups)


def test_off_domain_and_text_search(qtbot, curate):
    window, panel = curate
    page = panel.off_domain
    panel.pages.setCurrentWidget(page)
    page.threshold.setValue(1.0)  # every image falls below: a full list to work on
    _job(qtbot, panel, page.score_button.click, "relevance")
    qtbot.waitUntil(lambda: len(page.candidates) == 10, timeout=10000)
    scores = [c.score for c in page.candidates]
    assert scores == sorted(scores) and "score" in page.tiles.item(0).text()
    wait_idle(qtbot, window)
    from tests.desktop.test_screenshots import save as shot

    shot(window, "22_curate_off_domain")
    for row in (0, 1):
        page.tiles.item(row).setCheckState(Qt.CheckState.Checked)
    gone = page.tiles.checked()
    page.reject_button.click()
    qtbot.waitUntil(lambda: len(page.candidates) == 8, timeout=10000)
    assert {window.project.db.scalar("SELECT status FROM images WHERE id = ?", [i])
            for i in gone} == {"rejected"}  # fmt: skip

    search = panel.text_search
    panel.pages.setCurrentWidget(search)
    search.text.setText("a red car")
    search.k.setValue(4)
    search.search_button.click()
    qtbot.waitUntil(lambda: search.results.tiles.count() == 4, timeout=10000)
    wait_idle(qtbot, window)
    shot(window, "24_curate_text_search")


def test_more_like_this_project_and_pool(qtbot, curate, tmp_path):
    window, panel = curate
    _job(qtbot, panel, panel.embed_button.click, "embed")
    window.show_panel("jobs")
    window.tabs.setCurrentIndex(0)
    window.grid.select_row(0)
    seed = window.grid.current_image()
    from desktop.views.curate_panel import more_like_current

    page = panel.similar
    page.slider.setValue(0)
    more_like_current(window)  # from any image: the grid's current one
    assert window.tabs.currentWidget() is panel and page.image.value() == seed
    qtbot.waitUntil(lambda: page.results.tiles.count() == 9, timeout=10000)
    scores = [h.score for h in page.hits]
    page.slider.setValue(int(scores[2] * 100))
    page.search()
    qtbot.waitUntil(lambda: page.results.tiles.count() < 9, timeout=10000)
    assert all(h.score >= page.threshold() for h in page.hits)

    moved = [h.card["id"] for h in page.hits if h.card["domain"] != "cars"][:1]
    if moved:
        page.results.target.setCurrentIndex(page.results.target.findData("cars"))
        page.results.tiles.item(page.results.tiles.keys().index(moved[0])).setCheckState(
            Qt.CheckState.Checked
        )
        page.results.add_button.click()
        assert (
            window.project.db.scalar("SELECT domain FROM images WHERE id = ?", [moved[0]]) == "cars"
        )

    pool = tmp_path / "pool"
    for i in range(5):
        save(photo(300 + i), pool / f"p{i}.png")
    page.set_pool(str(pool))
    page.slider.setValue(0)
    _job(qtbot, panel, page.search, "pool")
    qtbot.waitUntil(lambda: page.results.tiles.count() == 5, timeout=10000)
    wait_idle(qtbot, window)
    from tests.desktop.test_screenshots import save as shot

    shot(window, "23_curate_more_like_this_pool")
    before = window.project.db.scalar("SELECT count(*) FROM images")
    page.results.target.setCurrentIndex(page.results.target.findData("animals"))
    page.results.tiles.item(0).setCheckState(Qt.CheckState.Checked)
    page.results.tiles.item(1).setCheckState(Qt.CheckState.Checked)
    summary = _job(qtbot, panel, page.add_checked, "add_pool")
    assert summary["imported"] == 2
    assert window.project.db.scalar("SELECT count(*) FROM images") == before + 2


def test_offline_catalog_model_is_a_message_at_once(qtbot, curate, monkeypatch, tmp_path):
    window, panel = curate
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the CLIP child process inherits it
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    panel.set_model("clip-vit-b32")
    assert "download about 605 MB" in panel.model.currentText()
    with qtbot.waitSignal(panel.worker.jobFailed, timeout=120000) as got:
        panel.embed_button.click()
    assert "offline" in got.args[1] and "clip-vit-b32" in panel.message.text()
    assert "Traceback" not in panel.message.text() and panel.embed_button.isEnabled()
