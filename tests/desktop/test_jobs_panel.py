"""The Jobs panel over the real job engine: a small project of real images, the loopback
OpenAI server with scripted replies, and the panel's own buttons."""

from __future__ import annotations

import pytest

from core.backends import BackendConfig
from core.backends.settings import add_backend
from core.store import jobs as js
from core.store import ocr as ocr_store
from core.store import pipeline as sp
from tests.desktop.test_screenshots import save
from tests.fixtures_loopback import loopback  # noqa: F401  (fixture)
from tests.pipeline.conftest import sign_image
from tests.pipeline.scripted import reply

pytestmark = pytest.mark.gui

COLOURS = ["#f4d58d", "#8fd19e", "#9ec5fe", "#c3e6cb", "#f5b7b1", "#d7bde2"]


@pytest.fixture
def jobs_project(project, tmp_path):
    """Default domains and seeds, and six rendered signs imported as real files."""
    from core.domains import install_defaults
    from core.library.importer import import_paths

    install_defaults(project.db)
    src = tmp_path / "src"
    src.mkdir()
    texts = [["FRESH BREAD", "OPEN 7-19"]] + [[f"SIGN {k}", "OPEN"] for k in range(1, 6)]
    paths = [
        sign_image(src / f"sign{k}.png", t, c)
        for k, (t, c) in enumerate(zip(texts, COLOURS, strict=True))
    ]
    summary = import_paths(project, paths[:4], domain="ocr", workers=0)
    summary2 = import_paths(project, paths[4:], domain="posters", workers=0)
    assert not summary.rejected and not summary2.rejected
    return project


@pytest.fixture
def server(loopback):  # noqa: F811
    loopback.reply = reply
    return loopback


def add_loop_backend(server, concurrency=4, name="loop"):
    add_backend(
        BackendConfig(
            name=name,
            kind="openai",
            model="gpt-4o-mini",  # priced in resources/prices.yaml: costs show up
            base_url=server.url,
            max_concurrency=concurrency,
            timeout_s=10,
        )
    )


@pytest.fixture
def make_panel(qtbot, jobs_project):
    from desktop.views.jobs_panel import JobsPanel

    made = []

    def make(selection=None, project=None):
        panel = JobsPanel(project or jobs_project, selection=selection)
        qtbot.addWidget(panel)
        panel.resize(1300, 640)
        panel.show()
        qtbot.waitUntil(lambda: not panel.busy(), timeout=5000)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        assert panel.runner.wait(10000)


def job_row(panel):
    return panel.selected()


def start(qtbot, panel, stage, scope="all", **fields):
    panel.reload_choices()
    panel.form.choose(stage, scope, **fields)
    with qtbot.waitSignal(panel.worker.jobStarted, timeout=15000) as started:
        panel.form.start_button.click()
    return started.args[0]


def wait_ended(qtbot, panel, job_id, timeout=30000):
    qtbot.waitUntil(lambda: not panel.worker.is_live(job_id), timeout=timeout)
    qtbot.waitUntil(lambda: not panel.busy(), timeout=timeout)


def test_a_caption_job_runs_from_the_panel_with_live_progress(qtbot, make_panel, server):
    server.latency = 0.15
    add_loop_backend(server, concurrency=1)
    panel = make_panel()
    assert panel.form.backend.currentData() == "loop"
    events = []
    panel.worker.event.connect(events.append)
    job_id = start(qtbot, panel, "caption", "all", backend="loop")

    # Mid-run: the engine's events have reached the widgets.
    qtbot.waitUntil(lambda: 0 < (job_row(panel).done or 0) < 6, timeout=15000)
    row = job_row(panel)
    assert row.key == job_id and row.status == "running" and row.total == 6
    assert panel.bar.maximum() == 6 and 0 < panel.bar.value() < 6
    assert "tokens" in panel.summary.text() and "ETA" in panel.summary.text()
    assert panel.pause_button.isEnabled() and not panel.retry_button.isEnabled()
    save(panel, "jobs_panel_running")

    wait_ended(qtbot, panel, job_id)
    row = job_row(panel)
    assert (row.status, row.done, row.failed, row.total) == ("done", 6, 0, 6)
    assert row.tokens > 0 and row.cost_usd > 0  # usage and price from the real requests
    assert {e.kind for e in events} >= {"status", "progress"}
    assert any(0 < e.done < 6 for e in events)  # progress arrived before the end
    assert "6 / 6 done" in panel.summary.text()
    db = panel.project.db
    assert all(sp.current_caption(db, i.id, "en") for i in sp.select_images(db))
    assert js.get_job(db, job_id)["status"] == "done"
    save(panel, "jobs_panel_done")


def test_pause_resume_cancel_and_resume_after_cancel(qtbot, make_panel, server):
    server.latency = 0.25
    add_loop_backend(server, concurrency=1)
    panel = make_panel()
    job_id = start(qtbot, panel, "caption", "all", backend="loop")
    qtbot.waitUntil(lambda: job_row(panel).done >= 1, timeout=15000)

    panel.pause_button.click()
    qtbot.waitUntil(lambda: job_row(panel).status == "paused", timeout=5000)
    assert panel.resume_button.isEnabled() and not panel.pause_button.isEnabled()
    qtbot.waitUntil(lambda: job_row(panel).in_flight == 0, timeout=5000)
    qtbot.wait(300)  # let the last reply before the pause be committed
    held_done, held_requests = job_row(panel).done, server.stats.requests
    qtbot.wait(900)  # several latencies: a running job would have asked again
    assert server.stats.requests == held_requests and job_row(panel).done == held_done < 6

    panel.resume_button.click()
    qtbot.waitUntil(lambda: job_row(panel).done > held_done, timeout=15000)
    assert job_row(panel).status == "running"

    panel.cancel_button.click()
    wait_ended(qtbot, panel, job_id)
    row = job_row(panel)
    assert row.status == "cancelled" and row.pending > 0 and row.resumable
    assert js.item_counts(panel.project.db, job_id)["pending"] == row.pending
    assert panel.resume_button.isEnabled() and not panel.cancel_button.isEnabled()

    panel.resume_button.click()  # a stopped job, not live: runs again from where it stopped
    qtbot.waitUntil(lambda: panel.worker.is_live(job_id), timeout=15000)
    wait_ended(qtbot, panel, job_id)
    row = job_row(panel)
    assert (row.status, row.done, row.failed) == ("done", 6, 0)
    db = panel.project.db
    assert all(sp.current_caption(db, i.id, "en") for i in sp.select_images(db))


def test_a_failed_item_shows_its_reason_and_retry_redoes_it(qtbot, make_panel, server):
    server.add_fault("400", times=1)  # rejected at once: the item fails without retries
    add_loop_backend(server, concurrency=1)
    panel = make_panel()
    job_id = start(qtbot, panel, "caption", "domain", domain="posters", backend="loop")
    wait_ended(qtbot, panel, job_id)
    row = job_row(panel)
    assert (row.status, row.done, row.failed, row.total) == ("done", 1, 1, 2)
    qtbot.waitUntil(lambda: panel.failures.rowCount() == 1, timeout=5000)
    stored = js.failed_items(panel.project.db, job_id)[0]
    assert panel.failures.item(0, 0).text() == stored["key"]
    assert panel.failures.item(0, 2).text() == "rejected" == stored["reason"]
    assert "unsupported parameter" in panel.failures.item(0, 3).text()
    assert panel.retry_button.isEnabled()
    save(panel, "jobs_panel_failure")

    panel.retry_button.click()
    qtbot.waitUntil(lambda: panel.worker.is_live(job_id), timeout=15000)
    wait_ended(qtbot, panel, job_id)
    row = job_row(panel)
    assert (row.status, row.done, row.failed) == ("done", 2, 0)
    assert panel.failures.rowCount() == 0 and not panel.retry_button.isEnabled()
    assert js.failed_items(panel.project.db, job_id) == []


def test_a_job_left_running_by_a_dead_process_shows_up_and_resumes(
    qtbot, make_panel, server, jobs_project
):
    from core.pipeline.common import StageOptions
    from core.pipeline.stage_caption import plan_captions

    add_loop_backend(server)
    db = jobs_project.db
    opts = StageOptions()
    items, _ = plan_captions(jobs_project, opts)
    job_id = js.create_job(
        db, "caption", items, backend="loop", model="gpt-4o-mini", params=opts.to_json()
    )
    js.claim_items(db, job_id, 2)  # the dead process had two requests on the wire
    js.set_job_status(db, job_id, "running")

    panel = make_panel()
    row = panel.model.job(job_id)
    assert (row.status, row.reason, row.pending, row.scope) == ("stopped", "interrupted", 6, "")
    panel.select(job_id)
    assert panel.resume_button.isEnabled() and not panel.pause_button.isEnabled()
    panel.resume_button.click()
    qtbot.waitUntil(lambda: panel.worker.is_live(job_id), timeout=15000)
    wait_ended(qtbot, panel, job_id)
    assert (job_row(panel).status, job_row(panel).done) == ("done", 6)
    assert js.item_counts(db, job_id)["done"] == 6


def test_selection_scope_for_model_and_direct_stages(qtbot, make_panel, server, jobs_project):
    add_loop_backend(server)
    db = jobs_project.db
    chosen = sp.select_images(db, domain="posters")[1].id
    panel = make_panel(selection=lambda: [chosen])

    job_id = start(qtbot, panel, "caption", "selection", backend="loop")
    wait_ended(qtbot, panel, job_id)
    assert (job_row(panel).total, job_row(panel).done) == (1, 1)
    captioned = [i.id for i in sp.select_images(db) if sp.current_caption(db, i.id, "en")]
    assert captioned == [chosen]

    job_id = start(qtbot, panel, "generate", "selection", backend="loop")
    wait_ended(qtbot, panel, job_id)
    assert (job_row(panel).total, job_row(panel).done) == (4, 4)  # one item per type
    rows = sp.select_instructions(db)
    assert rows and {r.image_id for r in rows} == {chosen} and {r.status for r in rows} == {"new"}

    panel.form.choose("check", "selection")
    with qtbot.waitSignal(panel.worker.directEnded, timeout=15000) as ended:
        panel.form.start_button.click()
    outcome = ended.args[1]
    assert outcome.status == "done" and outcome.result.images == 1
    assert outcome.result.checked == len(rows)
    assert {r.status for r in sp.select_instructions(db)} <= {"ok", "needs_review"}
    row = job_row(panel)
    assert row.direct and row.status == "done" and row.done == row.total == 1  # images
    assert f"{len(rows)} items checked on 1 image," in panel.message.text()


def test_clear_messages_instead_of_a_run(qtbot, make_panel, server, jobs_project):
    panel = make_panel(selection=lambda: [])
    assert panel.form.backend.currentData() is None  # no backend configured yet
    panel.form.choose("caption", "selection")
    panel.form.start_button.click()
    assert "no image is selected" in panel.message.text()

    panel.form.choose("caption", "all")
    with qtbot.waitSignal(panel.worker.failed, timeout=5000):
        panel.form.start_button.click()
    assert "choose a backend" in panel.message.text()

    add_loop_backend(server)
    job_id = start(qtbot, panel, "caption", "all", backend="loop")
    wait_ended(qtbot, panel, job_id)
    panel.form.choose("caption", "all")  # everything is captioned now
    with qtbot.waitSignal(panel.worker.nothingToDo, timeout=5000):
        panel.form.start_button.click()
    assert "Nothing to do for caption (already captioned: 6)" in panel.message.text()
    assert len(js.list_jobs(jobs_project.db)) == 1  # no empty job was stored


def test_the_window_has_the_jobs_tab_menu_entries_and_grid_selection(qtbot, jobs_project):
    from desktop.main_window import MainWindow
    from desktop.views.jobs_panel import JobsPanel

    window = MainWindow(jobs_project)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.is_idle, timeout=5000)
    panel = window.panels["jobs"]
    assert isinstance(panel, JobsPanel)
    jobs_action = next(a for a in window.menu("View").actions() if a.text() == "Jobs")
    jobs_action.trigger()
    assert window.tabs.currentWidget() is panel
    window.grid.select_row(3)
    panel.form.choose(scope="selection")
    assert panel.form.current_scope().image_ids == (window.grid.current_image(),)
    panel.form.choose(scope="shown")
    assert len(panel.form.current_scope().image_ids) == 6
    settings = next(a for a in window.menu("Tools").actions() if a.text() == "Settings…")
    settings.trigger()
    assert window.settings_dialog.isVisible()
    window.settings_dialog.close()
    window.shutdown()


def test_closing_the_window_mid_job_stops_it_cleanly_for_a_later_resume(
    qtbot, jobs_project, server
):
    from desktop.main_window import MainWindow

    server.latency = 0.2
    add_loop_backend(server, concurrency=1)
    window = MainWindow(jobs_project)
    qtbot.addWidget(window)
    window.show()
    panel = window.panels["jobs"]
    job_id = start(qtbot, panel, "caption", "all", backend="loop")
    qtbot.waitUntil(lambda: job_row(panel).done >= 1, timeout=15000)
    window.close()  # the window's shutdown waits for the panel's runner
    assert not panel.worker.is_live(job_id)
    job = js.get_job(jobs_project.db, job_id)
    counts = js.item_counts(jobs_project.db, job_id)
    assert job["status"] == "stopped" and counts["running"] == 0
    assert 1 <= counts["done"] < 6 and counts["pending"] == 6 - counts["done"]


def test_embedded_ocr_then_caption_with_its_retry_job(qtbot, make_panel, server, jobs_project):
    add_loop_backend(server)
    db = jobs_project.db
    panel = make_panel()
    panel.form.choose("ocr", "domain", domain="ocr", ocr_engine="rapidocr", threads=1)
    with qtbot.waitSignal(panel.worker.directEnded, timeout=120000) as ended:
        panel.form.start_button.click()
    outcome = ended.args[1]
    assert (outcome.status, outcome.result.images, outcome.result.with_text) == ("done", 4, 4)
    bakery = next(
        i.id for i in sp.select_images(db) if "FRESH" in (ocr_store.ocr_text(db, i.id) or "")
    )
    assert job_row(panel).direct and job_row(panel).status == "done"

    started = []
    panel.worker.jobStarted.connect(lambda job_id, info: started.append(info["stage"]))
    job_id = start(qtbot, panel, "caption", "all", backend="loop")
    wait_ended(qtbot, panel, job_id)
    # The bakery's OCR text made the scripted model answer too briefly: a retry job followed.
    qtbot.waitUntil(lambda: started == ["caption", "caption_retry"], timeout=15000)
    retry_id = max(j["id"] for j in js.list_jobs(db))
    wait_ended(qtbot, panel, retry_id)
    assert js.get_job(db, retry_id)["stage"] == "caption_retry"
    assert js.item_counts(db, retry_id)["done"] == 1
    history = sp.caption_history(db, bakery)
    assert history[0].text == "A yellow sign." and history[-1].is_current
    assert len(history[-1].text.split()) > 60


def test_a_job_stopped_by_its_budget_resumes_under_a_new_one(qtbot, make_panel, server):
    server.latency = 0.2
    add_loop_backend(server, concurrency=1)
    panel = make_panel()
    # each call reserves its worst case (every reply at max_tokens) before it starts
    job_id = start(qtbot, panel, "caption", "all", backend="loop", budget_usd=0.0008)
    with qtbot.waitSignal(panel.worker.failed, timeout=5000) as refused:
        panel.form.start_button.click()  # the same stage again while it runs: refused
    assert f"a caption job is running already (job {job_id})" in refused.args[0]
    wait_ended(qtbot, panel, job_id)
    row = job_row(panel)
    assert row.status == "budget" and 0 < row.pending < 6 and 0 < row.cost_usd <= 0.0008
    assert js.get_job(panel.project.db, job_id)["budget_usd"] == 0.0008
    assert panel.resume_button.isEnabled()

    panel.form.choose(budget_usd=0.0)  # "no budget"
    panel.resume_button.click()
    assert "with no budget" in panel.message.text()
    qtbot.waitUntil(lambda: panel.worker.is_live(job_id), timeout=15000)
    wait_ended(qtbot, panel, job_id)
    assert (job_row(panel).status, job_row(panel).done) == ("done", 6)
    assert js.get_job(panel.project.db, job_id)["budget_usd"] is None


def test_the_batch_box_sends_a_job_as_batches_and_reopening_collects_them(
    qtbot, make_panel, server, jobs_project
):
    from core.store import batches as bstore

    add_loop_backend(server)
    server.batches.delay_s = 60.0  # still running when the window closes
    panel = make_panel()
    panel.reload_choices()
    panel.form.choose("caption", "domain", backend="loop", domain="ocr")
    assert panel.form.batch.isEnabled() and not panel.form.batch.isChecked()
    panel.form.batch.setChecked(True)
    with qtbot.waitSignal(panel.worker.jobStarted, timeout=15000) as started:
        panel.form.start_button.click()
    job_id = started.args[0]
    qtbot.waitUntil(lambda: any(b["batch_id"] for b in bstore.open_batches(jobs_project.db, job_id)),
                    timeout=15000)  # fmt: skip
    assert panel.runner.wait(10000)  # the window closes: the batch stays out
    assert js.get_job(jobs_project.db, job_id)["status"] == "stopped"
    assert len(server.batches.batches) == 1

    server.batches.delay_s = 0.0
    again = make_panel()  # the app opens again: it polls the batch and stores the answers
    qtbot.waitUntil(lambda: not again.busy(), timeout=20000)
    job = js.get_job(jobs_project.db, job_id)
    assert job["status"] == "done" and js.item_counts(jobs_project.db, job_id)["done"] == 4
    assert len(server.batches.batches) == 1 and server.stats.requests == 4  # asked once each
    assert jobs_project.db.scalar("SELECT count(*) FROM captions") == 4
    assert all(r["batch"] for r in js.requests_log(jobs_project.db, job_id))
