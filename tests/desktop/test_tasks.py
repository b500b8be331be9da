"""desktop.workers.tasks: what a pool task's failure turns into on the GUI thread."""

from __future__ import annotations

import sys

import pytest

from core.errors import ProjectClosed
from core.project import Project
from desktop.workers.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_a_read_that_raced_the_projects_close_is_dropped(qtbot, tmp_path, monkeypatch):
    hooked = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: hooked.append(a[1]))
    project = Project.create(tmp_path / "p")
    db = project.db
    project.close()
    runner = TaskRunner()
    runner.submit(lambda _r: db.fetchall("SELECT 1"))
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10000)
    assert hooked == []  # no traceback dialog for a window already gone

    errors = []
    runner.submit(lambda _r: db.fetchall("SELECT 1"), on_error=errors.append)
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10000)
    assert len(errors) == 1 and isinstance(errors[0], ProjectClosed)  # asked for: delivered

    runner.submit(lambda _r: 1 / 0)  # any other failure still reaches the excepthook
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10000)
    assert len(hooked) == 1 and isinstance(hooked[0], ZeroDivisionError)
    runner.wait()


class _Node:
    pass


def test_a_running_task_keeps_the_windows_objects_out_of_full_gc_passes(qtbot):
    # A cycle that exists before the task, dropped while it runs: frozen meanwhile (a full
    # pass would otherwise walk it and every other object of the window), collected after.
    import gc
    import threading
    import weakref

    cycle = _Node()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    release, seen = threading.Event(), []

    def task(_report):
        seen.append(gc.get_freeze_count())
        release.wait(10)
        gc.collect()  # a full pass during the run leaves the frozen cycle alone
        seen.append(gone() is not None)

    runner = TaskRunner()
    runner.submit(task)
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    del cycle
    release.set()
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10000)
    runner.wait()
    assert seen[0] > 0 and seen[1] is True
    assert gc.get_freeze_count() == 0  # thawed once the last task ended
    gc.collect()
    assert gone() is None  # nothing leaks: the cycle goes with the first pass after


def test_objects_made_while_a_task_runs_stay_collectable():
    # Freezing again at every later task would take the running job's own garbage out of
    # the collector until the last task ends (hours, for a long job beside short reads).
    import gc
    import weakref

    from desktop.workers.quiet_gc import quiet_collector

    with quiet_collector():
        frozen = gc.get_freeze_count()
        cycle = _Node()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        with quiet_collector():  # a second task, started while the first runs
            assert gc.get_freeze_count() == frozen
        del cycle
        gc.collect()
        assert gone() is None
    assert gc.get_freeze_count() == 0
