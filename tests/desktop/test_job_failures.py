"""A job whose every item failed reads failed in the Jobs panel, with an empty bar; a dead
server pauses the job with the reason (issue 14, "A job whose items all failed")."""

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
