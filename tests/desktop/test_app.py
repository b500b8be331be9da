"""Start-up and failure paths: the lock message, the error dialog and its log, `mmstudio gui`."""

import subprocess
import sys
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from core.errors import ProjectError

pytestmark = pytest.mark.gui


def test_second_window_gets_a_clear_message(qtbot, holder, capsys):
    from desktop.app import EXIT_STARTUP_ERROR, run

    path, proc = holder
    seen = {}

    def close_message():
        box = QApplication.activeModalWidget()
        seen["text"] = box.text() if box is not None else None
        if box is not None:
            box.done(0)

    QTimer.singleShot(300, close_message)
    assert run(path) == EXIT_STARTUP_ERROR
    assert "already open in another window" in seen["text"]
    assert f"process {proc.pid}" in seen["text"]
    assert "already open" in capsys.readouterr().err


def test_not_a_project_is_reported_too(qtbot, tmp_path, monkeypatch):
    from desktop.app import SCREENSHOT_ENV, run

    shot = tmp_path / "error.png"
    monkeypatch.setenv(SCREENSHOT_ENV, str(shot))  # grabs the message instead of waiting on it
    assert run(tmp_path / "nothing-here") == 2
    assert shot.is_file() and shot.stat().st_size > 1000


def test_unexpected_exception_shows_dialog_and_writes_log(qtbot, window):
    from desktop.errors import ErrorReporter

    reporter = ErrorReporter(window.project.logs_dir)
    reporter.install()
    try:

        def boom():
            raise ZeroDivisionError("division by zero in a slot")

        QTimer.singleShot(0, boom)
        qtbot.waitUntil(
            lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=3000
        )
        assert "ZeroDivisionError" in reporter.dialog.text()
        assert "edits are saved" in reporter.dialog.informativeText()
        log = (window.project.logs_dir / "gui.log").read_text()
        assert "Traceback" in log and "division by zero in a slot" in log and "boom" in log

        worker = threading.Thread(
            target=lambda: (_ for _ in ()).throw(ProjectError("from a thread"))
        )
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: reporter.count == 2, timeout=3000)
        assert "from a thread" in (window.project.logs_dir / "gui.log").read_text()
        assert "2 errors so far" in reporter.dialog.informativeText()
        # the window is alive and still saves edits
        window.grid.step(1)
        qtbot.waitUntil(lambda: window.review.image_id == window.model.image_id(1))
    finally:
        reporter.uninstall()
        if reporter.dialog is not None:
            reporter.dialog.close()


def test_gui_command_is_registered_without_importing_qt():
    code = (
        "import sys; from core.cli import build_parser; p = build_parser(); "
        "a = p.parse_args(['gui', 'somewhere']); print(a.project, 'PySide6' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["somewhere", "False"]


def test_sigterm_closes_the_app_cleanly(review_project, tmp_path):
    import os
    import signal
    import time

    from core.errors import ProjectLocked
    from core.project import Project

    path = review_project.root
    review_project.close()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "gui", str(path)], env=env, stderr=subprocess.PIPE, text=True
    )
    log = path / "logs" / "gui.log"
    deadline = time.monotonic() + 60
    while not (log.is_file() and "window open on" in log.read_text()):
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with pytest.raises(ProjectLocked):  # the app owns the project while it runs
        Project.open(path)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    with Project.open(path) as again:  # lock released, file intact
        assert again.db.scalar("SELECT count(*) FROM images") == 12
