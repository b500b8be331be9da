"""The window's side of backups: the damaged-file message with Restore, File → Backups…,
the runtime damage message, the quick check on open."""

from __future__ import annotations

import pytest

from core.project import DB_NAME, Project
from core.store import backup
from tests.core import damage_fixtures as dmg

pytestmark = pytest.mark.gui


def _edit(root, text):
    with Project.open(root) as p:
        p.db.execute(
            "INSERT INTO seeds (domain, itype, lang, text, source) "
            "VALUES ('misc', 'judgement', 'en', ?, 'user')",
            [text],
        )


_RUN_AND_RESTORE = """
import json, os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QPushButton
from desktop.app import run
from desktop.main_window import MainWindow

seen = {}
def click_restore():
    box = QApplication.activeModalWidget()
    if box is None:
        QTimer.singleShot(100, click_restore)
        return
    seen["text"] = box.text()
    box.findChild(QPushButton, "restoreButton").click()

def close_window():
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    if windows and windows[0].isVisible():
        seen["opened"] = True
        windows[0].close()
        QApplication.quit()
    else:
        QTimer.singleShot(100, close_window)

app = QApplication([])
QTimer.singleShot(200, click_restore)
QTimer.singleShot(400, close_window)
seen["code"] = run(sys.argv[1])
print(json.dumps(seen))
"""


def test_damaged_project_opens_after_restore_from_the_message(tmp_path):
    """The real app (its own process: a whole run() leaves Qt state behind)."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    root = tmp_path / "p"
    Project.create(root).close()
    _edit(root, "kept by the backup")  # closing backs it up
    dmg.random_bytes(root / DB_NAME)
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", _RUN_AND_RESTORE, str(root)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0 and seen["opened"]
    assert "not a DuckDB database" in seen["text"] and "mmstudio backup restore" in seen["text"]
    with Project.open(root) as p:
        assert p.db.scalar("SELECT count(*) FROM seeds WHERE text = 'kept by the backup'") == 1
    assert any(s.reason == backup.KEPT_ASIDE for s in backup.list_snapshots(root))


def test_backups_dialog_creates_and_asks_to_restore(qtbot, window, monkeypatch):
    from desktop.views import backups
    from desktop.views.backups import BackupsDialog, take_pending_restore

    codes = []
    monkeypatch.setattr(backups.QApplication, "exit", codes.append)  # no loop to leave here

    dialog = BackupsDialog(window)
    qtbot.addWidget(dialog)
    before = dialog.table.rowCount()
    dialog.create_button.click()
    assert dialog.table.rowCount() == before + 1
    newest = dialog.table.item(0, 0).text()
    assert newest.endswith("-manual.duckdb")
    dialog.restore_selected(confirm=lambda text: newest in text)
    assert take_pending_restore() == (True, newest) and codes == [backups.EXIT_REOPEN]


def test_menu_has_backups(window):
    texts = [a.text() for a in window.menus["File"].actions()]
    assert "Backups…" in texts


def test_runtime_damage_shows_restore(qtbot, window):
    import duckdb

    from desktop.errors import ErrorReporter

    reporter = ErrorReporter(window.project.logs_dir)
    reporter.project_db = window.project.db.path
    backup.snapshot(window.project, "manual")
    exc = duckdb.Error(
        "Corrupt database file: computed checksum 1 does not match stored checksum 0"
    )
    box = reporter.show(exc, "details")
    qtbot.addWidget(box)
    assert "checksum" in box.text() and "mmstudio backup restore" in box.text()
    assert box.findChild(type(box.buttons()[0]), "restoreButton") is not None
    box.close()


def test_quick_check_runs_on_open(qtbot, window):
    from desktop.views.backups import start_background_care

    rows = window.project.db.fetchall("SELECT thumb FROM images WHERE thumb IS NOT NULL LIMIT 1")
    (window.project.root / rows[0][0]).unlink()
    timer = start_background_care(window)
    qtbot.waitUntil(lambda: getattr(window, "health_report", None) is not None, timeout=5000)
    assert window.health_report.missing_thumbs.count == 1
    assert "Project check" in window.statusBar().currentMessage()
    timer.stop()
