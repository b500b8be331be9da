"""The Start tab: what this project needs next (derived from its state by core.next_steps),
and the projects: recent ones, New, Open, the bundled demo."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.next_steps import next_steps, project_state
from desktop.panels import Panel, register_panel
from desktop.strings import N_, tr, trn
from desktop.workers.tasks import TaskRunner

PATH_ROLE = Qt.ItemDataRole.UserRole


def _jobs(stage: str):
    def run(window) -> None:
        window.show_panel("jobs")
        form = getattr(window.panels["jobs"], "form", None)
        if form is not None:
            form.choose(stage=stage)

    return run


def _settings(window) -> None:
    from desktop.views.settings import open_settings

    open_settings(window)


# Per step of core.next_steps: (singular, plural) of what it says, the button, what it does.
STEP_VIEWS = {
    "add_backend": (
        N_("No model to call yet: add a backend (a local GGUF model or an API)."),
        None,
        N_("Add a model…"),
        _settings,
    ),
    "import": (
        N_("No images yet: import a folder of images."),
        None,
        N_("Import images…"),
        lambda w: w.on_import_images(),
    ),
    "caption": (
        N_("{n:,} image has no caption: run the caption stage."),
        N_("{n:,} images have no caption: run the caption stage."),
        N_("Caption…"),
        _jobs("caption"),
    ),
    "generate": (
        N_("{n:,} captioned image has no instructions: run the generate stage."),
        N_("{n:,} captioned images have no instructions: run the generate stage."),
        N_("Generate…"),
        _jobs("generate"),
    ),
    "check": (
        N_("{n:,} instruction is not checked yet: run the check stage."),
        N_("{n:,} instructions are not checked yet: run the check stage."),
        N_("Check…"),
        _jobs("check"),
    ),
    "review": (
        N_("{n:,} instruction waits for a decision: review it."),
        N_("{n:,} instructions wait for a decision: review them."),
        N_("Review"),
        lambda w: w.on_focus_grid(),
    ),
    "export": (
        N_("{n:,} accepted instruction and nothing exported yet: export a training set."),
        N_("{n:,} accepted instructions and nothing exported yet: export a training set."),
        N_("Export…"),
        lambda w: w.on_export_data(),
    ),
    "train": (
        N_("An export is ready: fine-tune a model on it."),
        None,
        N_("Training"),
        lambda w: w.show_panel("training"),
    ),
}


def step_text(name: str, n: int) -> str:
    singular, plural, _button, _run = STEP_VIEWS[name]
    return trn(singular, plural, n) if plural else tr(singular)


class StartPage(QWidget):
    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.main = window
        self.project = window.project
        self.runner = TaskRunner(self, threads=1)  # the window waits for it on shutdown
        self.steps: list[tuple[str, int]] | None = None

        self.title = QLabel()
        self.title.setObjectName("startTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.where = QLabel(str(self.project.root))
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where.setStyleSheet("color: palette(placeholder-text);")
        self.steps_box = QGroupBox(tr("What to do next"))
        self.steps_grid = QGridLayout(self.steps_box)
        self.steps_grid.setColumnStretch(0, 1)

        self.recent = QListWidget()
        self.recent.setObjectName("recentProjects")
        self.recent.itemActivated.connect(self._open_item)
        new_button = QPushButton(tr("New project…"))
        new_button.setObjectName("newProject")
        new_button.clicked.connect(self.new_project)
        open_button = QPushButton(tr("Open project…"))
        open_button.setObjectName("openProject")
        open_button.clicked.connect(self.open_project)
        demo_button = QPushButton(tr("Open the demo project"))
        demo_button.setObjectName("openDemo")
        demo_button.clicked.connect(self.open_demo)
        projects = QGroupBox(tr("Projects"))
        side = QVBoxLayout(projects)
        side.addWidget(QLabel(tr("Recent (double-click to open)")))
        side.addWidget(self.recent, 1)
        buttons = QHBoxLayout()
        for b in (new_button, open_button, demo_button):
            buttons.addWidget(b)
        side.addLayout(buttons)

        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addWidget(self.where)
        left.addSpacing(8)
        left.addWidget(self.steps_box)
        left.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addWidget(projects, 2)
        self.refresh()

    # what to do next -----------------------------------------------------------------
    def refresh(self) -> None:
        """Read the project's state on a worker thread (counts over every row)."""
        self.title.setText(self.project.name)
        self.show_recent()
        project = self.project
        self.runner.submit(lambda _report: next_steps(project_state(project)), self.show_steps)

    def busy(self) -> bool:
        return self.runner.busy()

    def show_steps(self, steps: list[tuple[str, int]]) -> None:
        self.steps = steps
        while self.steps_grid.count():
            item = self.steps_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        if not steps:
            self.steps_grid.addWidget(QLabel(tr("Nothing waits: every step is done.")), 0, 0)
            return
        for row, (name, n) in enumerate(steps):
            _s, _p, button_text, run = STEP_VIEWS[name]
            text = QLabel(step_text(name, n), wordWrap=True)
            text.setObjectName(f"step_{name}")
            if row == 0:
                text.setStyleSheet("font-weight: bold;")
            button = QPushButton(tr(button_text))
            button.setObjectName(f"do_{name}")
            button.clicked.connect(lambda _c=False, r=run: r(self.main))
            self.steps_grid.addWidget(text, row, 0)
            self.steps_grid.addWidget(button, row, 1)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.steps is not None and not self.runner.busy():
            self.refresh()  # back on the tab after work elsewhere: read the state again

    # projects ------------------------------------------------------------------------
    def _session(self):
        return getattr(self.main, "session", None)

    def show_recent(self) -> None:
        self.recent.clear()
        session = self._session()
        if session is None:
            return
        for root in session.memory.recent():
            # One line: Qt elides a two-line item whose first line holds CJK text.
            name = tr("{name} (open)", name=root.name) if root == self.project.root else root.name
            item = QListWidgetItem(f"{name}  —  {root}")
            item.setData(PATH_ROLE, str(root))
            item.setToolTip(str(root))
            self.recent.addItem(item)

    def _open_item(self, item: QListWidgetItem) -> None:
        path = item.data(PATH_ROLE)
        if path and self._session() is not None:
            self._session().switch(Path(path))

    def new_project(self, folder: str | None = None) -> bool:
        """Create a project in a new or empty folder (asked for when not given) and open it."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(
                self, tr("Folder for the new project (new or empty)"), str(Path.home())
            )
        if not folder or self._session() is None:
            return False
        return self._session().new_project(Path(folder))

    def open_project(self, folder: str | None = None) -> bool:
        """Open the project in a folder (asked for when not given)."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(
                self, tr("Open a project folder"), str(self.project.root.parent)
            )
        if not folder or self._session() is None:
            return False
        return self._session().switch(Path(folder))

    def open_demo(self) -> bool:
        return self._session().open_demo() if self._session() is not None else False


def _factory(window) -> StartPage:
    return StartPage(window, window)


register_panel(Panel("start", N_("Start"), _factory, area="tab", order=5))
