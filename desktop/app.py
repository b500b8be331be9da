"""Entry point of the desktop studio: QApplication, error handling, the project, the window.

MMSTUDIO_SCREENSHOT=PATH makes the app save a picture of its window once everything on
screen has loaded, then quit: the smoke test and the docs use it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core.errors import ProjectDamaged, StudioError
from core.paths import resources_dir, user_home
from core.project import Project
from core.store import backup
from desktop.errors import ErrorReporter, log
from desktop.models.ui_settings import load_ui_settings
from desktop.project_memory import ProjectMemory
from desktop.project_session import ProjectSession, startup_message
from desktop.strings import set_language, tr
from desktop.views.backups import (
    EXIT_REOPEN,
    offer_restore,
    start_background_care,
    take_pending_restore,
)

SCREENSHOT_ENV = "MMSTUDIO_SCREENSHOT"
SCREENSHOT_TIMEOUT_S = 15.0
EXIT_STARTUP_ERROR = 2


def demo_project_path() -> Path:
    """The bundled demo project, built under the user folder on first use (core.demo)."""
    from core.demo import ensure_demo_project

    print(tr("Opening the demo project (imported on first use)…"), file=sys.stderr)
    return Path(ensure_demo_project())


def open_project(path: Path | None) -> Project:
    """`path`; without one, the project last open in the app, else the demo project."""
    if path is None:
        path = ProjectMemory().last_project() or demo_project_path()
    return Project.open(path)


def report_startup_error(exc: StudioError, screenshot: Path | None = None) -> None:
    text = startup_message(exc)
    print(f"error: {text}", file=sys.stderr)
    box = QMessageBox(QMessageBox.Icon.Warning, tr("Cannot open the project"), text)
    box.setObjectName("startupError")
    if screenshot is not None:
        box.show()
        QApplication.processEvents()
        box.grab().save(str(screenshot))
        box.close()
        return
    box.exec()


def save_when_idle(window: QWidget, path: Path, timeout_s: float = SCREENSHOT_TIMEOUT_S) -> QTimer:
    """Grab `window` into `path` once it has painted and loaded, then quit the app."""
    start = time.monotonic()
    calm = {"n": 0}
    timer = QTimer(window)

    def poll() -> None:
        idle = window.isVisible() and getattr(window, "is_idle", lambda: True)()
        calm["n"] = calm["n"] + 1 if idle else 0
        if calm["n"] >= 3 or time.monotonic() - start > timeout_s:
            timer.stop()
            path.parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(str(path))
            print(
                f"screenshot {'saved' if ok else 'FAILED'}: {path} ({window.windowTitle()})",
                file=sys.stderr,
            )
            QApplication.exit(0 if ok else 1)

    timer.timeout.connect(poll)
    timer.start(100)
    return timer


_qt_words: dict[str, QTranslator] = {}


def apply_language(app: QApplication) -> str:
    """The saved interface language, set before any widget exists (widgets take their words
    when built). Qt's own words (standard buttons, a text field's menu) come from Qt's
    catalogue. An unknown language in the settings file falls back to English."""
    lang = load_ui_settings()["language"]
    try:
        set_language(lang)
    except ValueError as exc:
        print(f"warning: {exc}; the interface stays in English", file=sys.stderr)
        lang = "en"
        set_language(lang)
    old = _qt_words.pop("translator", None)
    if old is not None:  # run() again in the same process (tests): no stale catalogue
        app.removeTranslator(old)
    if lang == "zh":
        translator = QTranslator(app)  # parented: it lives as long as the app
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        china = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
        if translator.load(china, "qtbase", "_", folder):
            app.installTranslator(translator)
            _qt_words["translator"] = translator
    return lang


def quit_on_signals(app: QApplication) -> QTimer:
    """Ctrl+C or SIGTERM close the window the normal way (pending text saved, project
    closed). Qt's loop does not run Python code by itself, so a timer lets handlers run."""

    def stop(_signum, _frame) -> None:
        app.closeAllWindows()
        app.quit()
        QTimer.singleShot(0, app.quit)  # a signal while the window was being built: the loop
        # was not running yet, so quit as soon as it starts

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer


def _run_window(app, project, reporter, screenshot, lang) -> tuple[int, Path]:
    """Run the app on `project` until it quits; (exit code, the project open at the end:
    File › Open may have switched)."""
    session = ProjectSession()

    def opened(window) -> None:
        reporter.set_log_dir(window.project.logs_dir)
        reporter.project_db = window.project.db.path
        log.info("window open on %s (pid %d, language %s)", window.project.root, os.getpid(), lang)
        if screenshot is None:
            start_background_care(window)

    session.windowChanged.connect(opened)
    try:
        if threading.current_thread() is threading.main_thread():
            quit_on_signals(app)  # before the window: "window open" in the log means it is safe
        window = session.show(project)
        if screenshot is not None:
            save_when_idle(window, screenshot)
        code = app.exec()
        root = session.project.root if session.project is not None else project.root
        return code, root
    finally:
        session.close()
        project.close()  # a no-op unless the window never opened


def run(project_path: Path | str | None = None, argv: list[str] | None = None) -> int:
    """Open `project_path` (the demo project when None) in the main window; returns the exit
    code. A project locked by another process gets a message, not a crash."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("MMInstruct Studio")
    app.setOrganizationName("mmstudio")
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "mmstudio.png")))
    lang = apply_language(app)
    shot = os.environ.get(SCREENSHOT_ENV)
    screenshot = Path(shot) if shot else None
    reporter = ErrorReporter(user_home() / "logs")
    reporter.install()
    try:
        path = Path(project_path) if project_path else None
        while True:
            try:
                project = open_project(path)
            except ProjectDamaged as exc:
                if screenshot is not None:
                    report_startup_error(exc, screenshot)
                    return EXIT_STARTUP_ERROR
                print(f"error: {exc}", file=sys.stderr)
                if offer_restore(exc):
                    continue  # restored: open it again
                return EXIT_STARTUP_ERROR
            except StudioError as exc:
                report_startup_error(exc, screenshot)
                return EXIT_STARTUP_ERROR
            code, path = _run_window(app, project, reporter, screenshot, lang)
            asked, name = take_pending_restore()
            if code != EXIT_REOPEN or not asked:
                return code
            try:
                backup.restore(path, name)
            except StudioError as exc:
                QMessageBox.warning(None, tr("Restore failed"), str(exc))
    finally:
        reporter.uninstall()
