"""Import and export dialogs over the real importer and exporter, and the stats view."""

import pytest
from PIL import Image

from core.store import browse, review
from desktop.views.sidebar import COUNT_ROLE
from tests.desktop.conftest import wait_idle

pytestmark = pytest.mark.gui


def _photos(folder, n):
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        Image.new("RGB", (320, 240), (40 * k, 120, 200 - 30 * k)).save(
            folder / f"p{k}.jpg", quality=90
        )
    (folder / "notes.jpg").write_text("<html>not a picture</html>")
    return folder


def test_import_dialog_runs_the_importer_and_lists_rejects(qtbot, window, tmp_path):
    from desktop.views.import_dialog import ImportDialog

    folder = _photos(tmp_path / "incoming", 3)
    window.on_import_images()  # Ctrl+I: the dialog the window wires to its grid and sidebar
    dialog = window.import_dialog
    assert isinstance(dialog, ImportDialog) and dialog.isVisible()
    dialog.add_paths([folder, folder])  # the same folder once
    assert dialog.paths.count() == 1
    dialog.domain.setEditText("food")
    with qtbot.waitSignal(dialog.imported, timeout=60000):
        dialog.start()
        assert not dialog.close_button.isEnabled()  # no closing half-way
    summary = dialog.summary
    assert summary.imported == 3
    assert dialog.rejected.isVisible() and dialog.rejected.rowCount() == 1
    assert dialog.rejected.item(0, 0).text().endswith("notes.jpg")
    assert dialog.rejected.item(0, 1).text() == summary.rejected[0]["reason"]
    assert "Imported 3 images" in dialog.status.text()
    qtbot.waitUntil(lambda: window.model.rowCount() == 15, timeout=5000)
    counts = dict(browse.domain_counts(window.project.db))
    assert counts["food"] == 3
    rows = [window.sidebar.list.item(i) for i in range(window.sidebar.list.count())]
    assert ("food", 3) in [(i.text(), i.data(COUNT_ROLE)) for i in rows]
    wait_idle(qtbot, window)


def test_import_dialog_needs_a_path(qtbot, window):
    from desktop.views.import_dialog import ImportDialog

    dialog = ImportDialog(window.project, window)
    qtbot.addWidget(dialog)
    dialog.start()
    assert "at least one" in dialog.status.text()
    assert not dialog.worker.running


def test_export_dialog_writes_an_export(qtbot, window, tmp_path):
    from desktop.views.export_dialog import ExportDialog

    db = window.project.db
    ids = [r[0] for r in db.fetchall("SELECT id FROM instructions ORDER BY id LIMIT 6")]
    review.set_instruction_status(db, ids, "accepted")
    dialog = ExportDialog(window.project, window)
    qtbot.addWidget(dialog)
    assert dialog.format.count() >= 1 and dialog.run_button.isEnabled()
    dialog.format.setCurrentIndex(dialog.format.findData("llava"))
    dialog.val.setValue(0.0)
    out = tmp_path / "exports" / "llava-test"
    dialog.out.setText(str(out))
    options = dialog.options()
    assert options["statuses"] == ["accepted"] and options["domains"] is None
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        dialog.start()
    assert (out / "manifest.json").is_file() or any(out.iterdir())
    assert dialog.open_button.isEnabled()
    assert str(out) in dialog.status.text()


def test_export_dialog_reports_nothing_to_export(qtbot, window, tmp_path):
    from desktop.views.export_dialog import ExportDialog

    dialog = ExportDialog(window.project, window)
    qtbot.addWidget(dialog)
    dialog.out.setText(str(tmp_path / "none"))
    with qtbot.waitSignal(dialog.worker.failed, timeout=30000):
        dialog.start()
    assert "Export failed" in dialog.status.text() and "nothing to export" in dialog.status.text()
    assert dialog.run_button.isEnabled() and not dialog.open_button.isEnabled()


def test_stats_view_draws_the_project_counts(qtbot, window):
    db = window.project.db
    first = db.fetchall("SELECT id FROM instructions ORDER BY id LIMIT 3")
    review.edit_instruction(db, first[0][0], "question", "Is it a disc?")
    review.set_instruction_status(db, [r[0] for r in first], "accepted")
    stats = window.panels["stats"]
    window.show_panel("stats")
    qtbot.waitUntil(lambda: stats.stats is not None, timeout=5000)
    total = db.scalar("SELECT count(*) FROM instructions")
    assert f"<b>{total:,}</b> instructions" in stats.summary.text()
    assert "correction rate <b>33%</b>" in stats.summary.text()
    pairs = db.scalar(
        "SELECT count(DISTINCT (coalesce(i.domain, ''), n.itype)) FROM instructions n JOIN images i ON i.id = n.image_id"
    )
    assert len(stats.instructions.bars) == pairs
    assert {b.label for b in stats.flags.bars} >= {"answer_leak", "too_short", "verify disagrees"}
    assert stats.instructions.height() >= stats.instructions.sizeHint().height()
