"""Unexpected exceptions: logged with their traceback to a file and shown in a dialog; the app
keeps running. Every edit is saved when it is made, so an error costs no reviewed work."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from core.backends.keys import install_redaction
from core.errors import ProjectDamaged, StudioError
from desktop.strings import tr, trn

log = logging.getLogger("mmstudio.gui")
LOG_NAME = "gui.log"


class ErrorReporter(QObject):
    _from_thread = Signal(object, object, object)

    def __init__(self, log_dir: Path, parent: QObject | None = None):
        super().__init__(parent)
        self._handler: logging.Handler | None = None
        self.log_path: Path | None = None
        self.set_log_dir(log_dir)
        self.dialog: QMessageBox | None = None
        self.project_db: Path | None = None  # set by the app: names the file in damage messages
        self.count = 0
        self._previous = None
        self._previous_thread = None
        self._from_thread.connect(self.handle, Qt.ConnectionType.QueuedConnection)

    def set_log_dir(self, log_dir: Path) -> None:
        """Log into `log_dir`/gui.log from now on (the project's logs/ once it is open)."""
        log_dir = Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        if self._handler is not None:
            log.removeHandler(self._handler)
            self._handler.close()
        self.log_path = log_dir / LOG_NAME
        self._handler = logging.FileHandler(self.log_path, encoding="utf-8", delay=True)
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        install_redaction(self._handler)
        log.addHandler(self._handler)
        log.setLevel(logging.INFO)
        log.propagate = False  # errors are printed to stderr below, once

    def install(self) -> None:
        self._previous, sys.excepthook = sys.excepthook, self.handle
        self._previous_thread, threading.excepthook = threading.excepthook, self._thread_hook
        # No Python qInstallMessageHandler: Qt calls it from decoder threads, where a Python
        # callback needs the GIL inside Qt's locks (a deadlock risk); Qt warnings go to stderr.

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook = self._previous
            threading.excepthook = self._previous_thread
            self._previous = None
        if self._handler is not None:
            log.removeHandler(self._handler)
            self._handler.close()
            self._handler = None

    def _thread_hook(self, args) -> None:
        self._from_thread.emit(args.exc_type, args.exc_value, args.exc_traceback)

    def handle(self, etype, value, tb) -> None:
        if issubclass(etype, KeyboardInterrupt):
            QApplication.quit()
            return
        if threading.current_thread() is not threading.main_thread():
            self._from_thread.emit(etype, value, tb)
            return
        text = "".join(traceback.format_exception(etype, value, tb))
        log.error("unexpected error\n%s", text)
        print(text, file=sys.stderr)
        if self._handler is not None:
            self._handler.flush()
        self.count += 1
        if self.dialog is not None and self.dialog.isVisible():
            so_far = trn("{n} error so far.", "{n} errors so far.", self.count)
            self.dialog.setInformativeText(self._informative(so_far))
            return
        self.dialog = self.show(value, text)

    def _informative(self, extra: str = "") -> str:
        return tr(
            "Your edits are saved as you make them; the app keeps running.\n"
            "Details were written to {path}. {extra}",
            path=self.log_path,
            extra=extra,
        ).strip()

    def _damaged(self, value: BaseException):
        """A DuckDB error about the project file itself, as the CLI words it."""
        if isinstance(value, ProjectDamaged):
            return value
        if self.project_db is None:
            return None
        from core.store.damage import translate

        better = translate(value, self.project_db)
        return better if isinstance(better, ProjectDamaged) else None

    def show(self, value: BaseException, details: str) -> QMessageBox:
        box = QMessageBox(QApplication.activeWindow())
        box.setObjectName("errorDialog")
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(tr("Something went wrong"))
        damaged = self._damaged(value)
        if damaged is not None:
            box.setText(str(damaged))
            if damaged.backup:
                from desktop.views.backups import request_restore

                restore = box.addButton(
                    tr("Restore the newest backup"), QMessageBox.ButtonRole.AcceptRole
                )
                restore.setObjectName("restoreButton")
                restore.clicked.connect(lambda: request_restore(None))
                box.addButton(QMessageBox.StandardButton.Close)
        elif isinstance(value, StudioError):
            box.setText(str(value))
        else:
            box.setText(
                tr("Unexpected error: {kind}: {error}", kind=type(value).__name__, error=value)
            )
        box.setInformativeText(self._informative())
        box.setDetailedText(details)
        box.setWindowModality(Qt.WindowModality.ApplicationModal)
        box.show()  # not exec(): an error inside a nested event loop must not stack loops
        return box
