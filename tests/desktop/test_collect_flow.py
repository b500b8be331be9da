"""The whole first step in the window, no command line: the Balance tab shows a domain short of
images, its one action searches Openverse (loopback fake) in the Collect tab, the picked
results download, a near duplicate is settled in the Curate tab with one key, and the Balance
tab's next action captions the domain through the Jobs tab (loopback OpenAI server)."""

from __future__ import annotations

import pytest

from core.domains import add_domain
from core.project import Project
from tests.collect.fake_web import FakeWeb, openverse_result
from tests.collect.test_clip import variant
from tests.core.import_fixtures import jpeg_bytes, photo
from tests.desktop.conftest import wait_idle
from tests.desktop.test_jobs_panel import add_loop_backend
from tests.desktop.test_screenshots import save
from tests.fixtures_loopback import loopback  # noqa: F401  (fixture)
from tests.pipeline.scripted import reply

pytestmark = pytest.mark.gui


@pytest.fixture
def web(monkeypatch):
    w = FakeWeb()
    monkeypatch.setenv("MMSTUDIO_OPENVERSE_URL", w.base)
    yield w
    w.close()


@pytest.fixture
def flow_window(qtbot, tmp_path, web):
    from desktop.main_window import MainWindow

    project = Project.create(tmp_path / "proj")
    add_domain(project.db, "wildlife", "Wildlife", keywords=["red fox"])
    add_domain(project.db, "vehicles", "Vehicles", keywords=["red bus"])
    bodies = [jpeg_bytes(photo(600 + k)) for k in range(3)]
    bodies.append(jpeg_bytes(variant(photo(600))))  # a near duplicate of the first
    web.catalog["red fox"] = [openverse_result(web, k, b) for k, b in enumerate(bodies)]
    w = MainWindow(project)
    # not qtbot.addWidget: pytest-qt closes and deletes those before fixture teardown, and
    # the waits below would then meet a deleted window whenever a panel is still busy
    w.show()
    qtbot.waitExposed(w)
    yield w
    for name in ("collect", "curate", "balance", "jobs"):
        qtbot.waitUntil(lambda n=name: not w.panels[n].busy(), timeout=30000)
    w.shutdown()
    w.close()
    w.deleteLater()
    project.close()


def _row(balance, domain):
    return next(b for b in balance.rows if b.domain == domain)


def test_collect_curate_caption_without_the_cli(qtbot, flow_window, loopback):  # noqa: F811
    window = flow_window
    balance = window.panels["balance"]
    window.show_panel("balance")
    balance.images.setValue(3)
    balance.captions.setValue(3)
    balance.save_button.click()
    qtbot.waitUntil(lambda: len(balance.rows) == 2 and not balance.busy(), timeout=10000)
    wild = _row(balance, "wildlife")
    assert (wild.images, wild.image_gap, wild.fill_action()) == (0, 3, "collect")
    assert balance.table.item(0, 1).text() == "0 / 3"

    # 1. The gap's action: the Collect tab searches with the domain's keywords.
    balance.select("wildlife")
    assert "Collect 3" in balance.fill_button.text()
    collect = window.panels["collect"]
    balance.fill_button.click()
    assert window.tabs.currentWidget() is collect and collect.domain.currentData() == "wildlife"
    qtbot.waitUntil(lambda: collect.found is not None, timeout=10000)
    assert collect.results.count() == 4
    with qtbot.waitSignal(collect.collected, timeout=20000) as got:
        collect.download_button.click()
    assert got.args[0].imported.imported == 4

    # 2. Curate: the near duplicate the importer grouped, settled with one key.
    curate = window.panels["curate"]
    window.show_panel("curate")
    page = curate.dups
    page.load()
    qtbot.waitUntil(lambda: len(page.groups) == 1, timeout=10000)
    from PySide6.QtCore import Qt

    page.tiles.setFocus()
    qtbot.keyClick(page.tiles, Qt.Key.Key_K)  # keep the suggested one, reject the other
    assert window.project.db.scalar("SELECT count(*) FROM images WHERE status = 'rejected'") == 1

    # 3. Balance again: three images count, captions are next; one action captions them.
    loopback.reply = reply
    add_loop_backend(loopback, concurrency=2)
    jobs = window.panels["jobs"]
    jobs.reload_choices()
    jobs.form.choose(backend="loop")
    window.show_panel("balance")
    qtbot.waitUntil(lambda: _row(balance, "wildlife").images == 3, timeout=10000)
    wild = _row(balance, "wildlife")
    assert (wild.image_gap, wild.caption_gap, wild.fill_action()) == (0, 3, "caption")
    balance.select("wildlife")
    with qtbot.waitSignal(jobs.worker.jobEnded, timeout=60000):
        balance.fill_button.click()
    qtbot.waitUntil(lambda: not jobs.busy(), timeout=30000)
    captioned = window.project.db.scalar(
        "SELECT count(DISTINCT c.image_id) FROM captions c JOIN images i ON i.id = c.image_id "
        "WHERE i.domain = 'wildlife' AND i.status <> 'rejected' AND c.is_current"
    )
    assert captioned == 3
    window.show_panel("balance")
    qtbot.waitUntil(lambda: _row(balance, "wildlife").captions == 3, timeout=10000)
    wild = _row(balance, "wildlife")
    assert wild.fill_action() == "generate" and wild.under_filled()
    balance.select("vehicles")
    wait_idle(qtbot, window)
    save(window, "25_balance")


def test_balance_target_persists_and_generate_needs_a_backend(qtbot, flow_window):
    from core.collect.balance import get_target

    window = flow_window
    balance = window.panels["balance"]
    balance.per_type["judgement"].setValue(7)
    balance.save_button.click()
    assert get_target(window.project).instructions["judgement"] == 7
    from desktop.views.balance_panel import fill

    text = fill(window, "generate", "wildlife", ["judgement"])
    assert "backend" in text and window.tabs.currentWidget() is window.panels["jobs"]
