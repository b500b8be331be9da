"""The project the app works on, and switching to another without restarting.

A switch opens the new project first (a locked, damaged or missing one gets its message and
the current window stays as it was), then closes the current window the normal way (the field
being typed in is saved, workers and the trainer child stop), remembers its layout, closes the
old project (its backup on close) and builds a fresh window over the new one: nothing of the
old project can linger in a model, a cache or a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from core.errors import ProjectDamaged, StudioError
from core.project import DB_NAME, Project
from core.store.db import is_open_here
from core.store.stats import image_count
from desktop.project_memory import ProjectMemory
from desktop.strings import tr

log = logging.getLogger("mmstudio")


def startup_message(exc: StudioError) -> str:
    """The words for a project that cannot be opened (a second instance holds its lock)."""
    from core.errors import ProjectLocked

    if isinstance(exc, ProjectLocked):
        who = tr("process {pid}", pid=exc.pid) if exc.pid else tr("another process")
        return tr(
            "The project {path} is already open in another window ({who}).\n\n"
            "Only one window can work on a project at a time. Switch to that window, "
            "or close it and try again.",
            path=exc.path,
            who=who,
        )
    return str(exc)


def busy_work(window) -> list[str]:
    """What would stop if the window closed now: running jobs, a training run."""
    out = []
    worker = getattr(window.panels.get("jobs"), "worker", None)
    if worker is not None and worker.live:  # not busy(): that counts reading the job list too
        out.append(tr("a job is running"))
    training = window.panels.get("training")
    if training is not None and training.process.running():
        out.append(tr("a training run is going (it can be resumed later)"))
    return out


class ProjectSession(QObject):
    """Owns the open project and its window; `switch`, `new_project` and `close` are the only
    ways either changes."""

    windowChanged = Signal(object)  # the new MainWindow

    def __init__(
        self,
        memory: ProjectMemory | None = None,
        warn: Callable[[str, str], None] | None = None,
        confirm: Callable[[str, str], bool] | None = None,
    ):
        super().__init__()
        self.memory = memory or ProjectMemory()
        self.project: Project | None = None
        self.window = None
        # Dialogs are injectable so tests drive the same paths without a modal loop.
        self.warn = warn or (lambda title, text: QMessageBox.warning(self.window, title, text))
        self.confirm = confirm or self._ask

    def _ask(self, title: str, text: str) -> bool:
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel
        answer = QMessageBox.question(self.window, title, text, buttons)
        return answer == QMessageBox.StandardButton.Yes

    # opening -------------------------------------------------------------------------
    def show(self, project: Project):
        """Build the window over an open `project` and remember it as recent."""
        from desktop.main_window import MainWindow

        self.project = project
        window = MainWindow(project)
        window.session = self
        self.memory.restore_window(project.root, window)  # else the window's default size
        self.window = window
        self.memory.add_recent(project.root)
        if "start" in window.panels:
            window.panels["start"].show_recent()  # the session is known only now
        window.show()
        self.memory.restore_splitters(project.root, window)
        if image_count(project.db) == 0 and "start" in window.panels:
            window.show_panel("start")  # an empty project: say what to do first
        log.info("project window on %s", project.root)
        self.windowChanged.emit(window)
        return window

    def switch(self, path: Path | str) -> bool:
        """Open the project at `path` in place of the current one; False if it stays."""
        root = Path(path).expanduser().resolve()
        if self.project is not None and root == self.project.root:
            self._say(tr("{path} is the project already open", path=root))
            return False
        if is_open_here(root / DB_NAME):
            self._say(tr("{path} is already open in this window", path=root))
            return False
        if self.window is not None:
            busy = busy_work(self.window)
            if busy and not self.confirm(
                tr("Switch projects?"),
                tr(
                    "In {name}, {what}. Switching closes it. Switch anyway?",
                    name=self.project.name,
                    what=tr(", ").join(busy),
                ),
            ):
                return False
        try:
            new = self._open(root)
        except StudioError as exc:
            self.warn(tr("Cannot open the project"), startup_message(exc))
            return False
        if not self._close_window():
            new.close(backup_on_close=False)
            return False
        self.show(new)
        return True

    def new_project(self, folder: Path | str, defaults: bool = True) -> bool:
        """Create a project in `folder` (with the default domains and seed questions, as
        `mmstudio init` does) and switch to it."""
        from core.domains import install_defaults

        folder = Path(folder).expanduser()
        if folder.is_dir() and any(folder.iterdir()) and not (folder / DB_NAME).exists():
            self.warn(
                tr("Cannot create the project"),
                tr("{path} is not empty: choose a new or empty folder", path=folder),
            )
            return False
        try:
            with Project.create(folder) as project:
                if defaults:
                    install_defaults(project.db)
                root = project.root
        except StudioError as exc:
            self.warn(tr("Cannot create the project"), str(exc))
            return False
        return self.switch(root)

    def open_demo(self) -> bool:
        from core.demo import ensure_demo_project

        try:
            root = ensure_demo_project()
        except StudioError as exc:
            self.warn(tr("Cannot open the project"), str(exc))
            return False
        return self.switch(root)

    def _open(self, root: Path) -> Project:
        try:
            return Project.open(root)
        except ProjectDamaged as exc:
            from desktop.views.backups import offer_restore

            if offer_restore(exc):
                return Project.open(root)
            raise

    # closing -------------------------------------------------------------------------
    def _close_window(self) -> bool:
        """Close the current window and project; False when the window refused to close."""
        window = self.window
        if window is None:
            return True
        self.memory.save_window(self.project.root, window)
        app = QApplication.instance()
        quits = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)  # the next window is coming
        try:
            closed = window.close()
        finally:
            app.setQuitOnLastWindowClosed(quits)
        if not closed:
            return False
        window.shutdown()
        window.session = None
        window.deleteLater()
        self.window = None
        self.close_project()
        return True

    def close_project(self) -> None:
        if self.project is not None:
            self.project.close()  # the backup on close, then the lock goes
            self.project = None

    def close(self) -> None:
        """The app is ending: remember the layout, stop the window, close the project."""
        if self.window is not None:
            self.memory.save_window(self.project.root, self.window)
            self.window.shutdown()
            self.window.session = None
            self.window.deleteLater()
            self.window = None
        self.close_project()

    def _say(self, text: str) -> None:
        if self.window is not None:
            self.window.statusBar().showMessage(text, 6000)
