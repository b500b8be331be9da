"""How a job's outcome reads in the Jobs panel (issue 14): every item failed is "failed" with an
empty bar, and a redo answered from the reply cache says so and offers a real re-sample."""

from __future__ import annotations

import pytest

from desktop.models.jobs_model import PROGRESS_COLUMN
from tests.desktop.test_jobs_panel import (  # noqa: F401  (fixtures)
    add_loop_backend,
    job_row,
    jobs_project,
    make_panel,
    server,
    start,
    wait_ended,
)
from tests.fixtures_loopback import loopback  # noqa: F401  (fixture)

pytestmark = pytest.mark.gui


def test_all_items_failed_shows_failed_and_an_empty_bar(qtbot, make_panel, server):  # noqa: F811
    server.add_fault("400", times=-1)  # every request rejected
    add_loop_backend(server, concurrency=1)
    panel = make_panel()
    job_id = start(qtbot, panel, "caption", "domain", domain="posters", backend="loop")
    wait_ended(qtbot, panel, job_id)
    row = job_row(panel)
    assert (row.status, row.done, row.failed, row.total) == ("failed", 0, 2, 2)
    assert "all 2 items failed" in (row.reason or "")
    assert panel.bar.value() == 0
    progress = panel.model.index(panel.model.row_of(job_id), PROGRESS_COLUMN).data()
    assert progress.startswith("0 / 2") and "2 failed" in progress
    assert panel.retry_button.isEnabled()


def test_a_redo_from_the_cache_says_so_and_re_sample_asks_again(
    qtbot,
    make_panel,  # noqa: F811
    server,  # noqa: F811
):
    add_loop_backend(server, concurrency=2)
    panel = make_panel()
    job_id = start(qtbot, panel, "caption", "domain", domain="posters", backend="loop")
    wait_ended(qtbot, panel, job_id)
    asked = server.stats.requests
    redo = start(qtbot, panel, "caption", "domain", domain="posters", backend="loop", force=True)
    wait_ended(qtbot, panel, redo)
    row = job_row(panel)
    assert row.key == redo and row.cached == 2 and server.stats.requests == asked
    assert "answered from the reply cache" in (row.reason or "")
    assert "reply cache" in panel.message.text()
    assert panel.resample_button.isEnabled()
    with qtbot.waitSignal(panel.worker.jobStarted, timeout=15000) as started:
        panel.resample_button.click()
    again = started.args[0]
    wait_ended(qtbot, panel, again)
    row = job_row(panel)
    assert row.key == again and (row.status, row.done, row.cached) == ("done", 2, 0)
    assert server.stats.requests == asked + 2  # the model was asked again
