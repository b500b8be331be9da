"""Backups in the window: File → Backups…, the damaged-file message with its Restore button,
the scheduled snapshot and the quick project check run on open. The work is core's
(core.store.backup, core.doctor); this module only shows it.

A restore needs the project closed, so the window asks the app to close it, restore and open
it again (`request_restore` → `desktop.app.run`'s reopen loop, exit code EXIT_REOPEN).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.errors import ProjectDamaged, StudioError
from core.store import backup
from desktop import panels
from desktop.strings import N_, tr, trn

log = logging.getLogger("mmstudio.gui")
EXIT_REOPEN = 75  # app.exec() result meaning: close the project, restore, open it again
BACKUP_CHECK_MS = 60_000
_pending: dict[str, str | None] = {}


def request_restore(name: str | None) -> None:
    """Ask the app to restore snapshot `name` (None: the newest backup) and reopen."""
    _pending["restore"] = name
    QApplication.exit(EXIT_REOPEN)


def take_pending_restore() -> tuple[bool, str | None]:
    if "restore" not in _pending:
        return False, None
    return True, _pending.pop("restore")


# the damaged-file message -------------------------------------------------------------
def damaged_box(exc: ProjectDamaged, parent=None) -> QMessageBox:
    """The same words as the CLI, with a Restore button when there is a backup."""
    box = QMessageBox(QMessageBox.Icon.Critical, tr("The project file is damaged"), str(exc))
    box.setParent(parent, box.windowFlags())
    box.setObjectName("damagedProject")
    if exc.backup:
        restore = box.addButton(tr("Restore the newest backup"), QMessageBox.ButtonRole.AcceptRole)
        restore.setObjectName("restoreButton")
        box.setInformativeText(
            tr("The damaged file is kept in backups/ as “before-restore”; nothing is deleted.")
        )
    box.addButton(QMessageBox.StandardButton.Close)
    return box


def offer_restore(exc: ProjectDamaged, show=None) -> bool:
    """Show the damaged-file message; True once the newest backup was restored."""
    box = damaged_box(exc)
    (show or QMessageBox.exec)(box)
    clicked = box.clickedButton()
    if clicked is None or clicked.objectName() != "restoreButton":
        return False
    try:
        done = backup.restore(exc.path.parent)
    except StudioError as err:
        QMessageBox.warning(None, tr("Restore failed"), str(err))
        return False
    log.info("restored %s into %s", done.snapshot.name, exc.path)
    return True


# File → Backups… ------------------------------------------------------------------------
class BackupsDialog(QDialog):
    COLUMNS = (N_("Snapshot"), N_("Taken (UTC)"), N_("Reason"), N_("Size"))

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("backupsDialog")
        self.setWindowTitle(tr("Backups"))
        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.create_button = QPushButton(tr("Back up now"), self)
        self.restore_button = QPushButton(tr("Restore selected…"), self)
        self.create_button.clicked.connect(self.create)
        self.restore_button.clicked.connect(self.restore_selected)
        row = QHBoxLayout()
        row.addWidget(self.create_button)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addLayout(row)
        layout.addWidget(close)
        self.resize(720, 420)
        self.refresh()

    def refresh(self) -> None:
        self.snaps = backup.list_snapshots(self.window_.project.root)
        self.table.setRowCount(len(self.snaps))
        for r, s in enumerate(self.snaps):
            cells = (
                s.name,
                s.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                s.reason,
                f"{s.bytes / 1e6:.1f} MB",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)
        if self.snaps:
            self.table.selectRow(0)
        self.note.setText(
            trn(
                "{n} snapshot in {folder}",
                "{n} snapshots in {folder}",
                len(self.snaps),
                folder=backup.backups_dir(self.window_.project.root),
            )
        )
        self.restore_button.setEnabled(bool(self.snaps))

    def create(self) -> None:
        try:
            snap = backup.snapshot(self.window_.project, "manual")
        except StudioError as exc:
            self.note.setText(str(exc))
            return
        self.refresh()
        self.note.setText(tr("Backup written: {name}", name=snap.name))

    def selected(self) -> backup.Snapshot | None:
        rows = self.table.selectionModel().selectedRows()
        return self.snaps[rows[0].row()] if rows else None

    def restore_selected(self, confirm=None) -> None:
        snap = self.selected()
        if snap is None:
            return
        ask = confirm or (
            lambda text: (
                QMessageBox.question(self, tr("Restore a backup"), text)
                == QMessageBox.StandardButton.Yes
            )
        )
        text = tr(
            "Replace the project's database with {name} ({reason})? The window closes the "
            "project, keeps the current file in backups/ (restoring it undoes this) and opens "
            "the project again.",
            name=snap.name,
            reason=snap.reason,
        )
        if ask(text):
            self.accept()
            request_restore(snap.name)


def _open_dialog(window) -> None:
    window.backups_dialog = BackupsDialog(window)
    window.backups_dialog.open()


panels.register_action(panels.MenuAction("File", N_("Backups…"), _open_dialog, order=90))


# on open: the schedule and the quick check ----------------------------------------------
def start_background_care(window) -> QTimer:
    """Every minute, a snapshot when one is due (core decides: interval and changes); and,
    once now, the quick project check, reported in the status bar."""
    project = window.project

    def scheduled() -> None:
        if not window.background.busy():
            window.background.submit(
                lambda _report: backup.snapshot_if_due(project),
                on_error=lambda exc: log.warning("scheduled backup failed: %s", exc),
            )

    timer = QTimer(window)
    timer.setObjectName("backupTimer")
    timer.timeout.connect(scheduled)
    timer.start(BACKUP_CHECK_MS)

    def checked(report) -> None:
        window.health_report = report
        if not report.ok:
            window.statusBar().showMessage(
                trn(
                    "Project check: {n} problem (run `mmstudio doctor --fix`)",
                    "Project check: {n} problems (run `mmstudio doctor --fix`)",
                    report.problems,
                )
            )

    from core.doctor import check

    window.background.submit(
        lambda _report: check(project, quick=True),
        on_done=checked,
        on_error=lambda exc: log.warning("quick project check failed: %s", exc),
    )
    return timer
