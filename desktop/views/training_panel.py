"""The Training tab: configure a LoRA run, start and stop the trainer, follow it, compare runs.

The trainer is a child process (`PY -m trainer runs/<name>/train.yaml`); this panel talks to it
through the run folder only (docs/trainer.md), so a run started from the CLI, or one left
behind by a closed window, shows the same way.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.models.run_metrics import RESUMABLE_STATES, latest_run_dir
from desktop.models.train_setup import (
    RUN_CONFIG,
    SetupError,
    new_run_name,
    resume_config,
    write_run_config,
)
from desktop.panels import Panel, register_panel
from desktop.strings import N_, tr
from desktop.views.run_compare import RunCompare
from desktop.views.run_monitor import RunMonitor
from desktop.views.train_form import TrainForm
from desktop.workers.trainer_process import TrainerProcess

# How the trainer process ended (TrainerProcess.finished), in words.
ENDINGS = {
    "exit": N_("exited"),
    "crash": N_("crashed"),
    "stopped": N_("stopped"),
    "failed to start": N_("failed to start"),
}


class TrainingPanel(QWidget):
    def __init__(self, project, parent=None, machine=None):
        super().__init__(parent)
        self.project = project
        self.process = TrainerProcess(self)
        self.process.output.connect(self._output)
        self.process.started.connect(
            lambda pid: self._note(tr("trainer started (pid {pid})", pid=pid))
        )
        self.process.finished.connect(self._finished)

        self.form = TrainForm(project, self, machine=machine)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(self.form.minimumSizeHint().width() + bar + 4)
        self.start_button = QPushButton(tr("Start training"))
        self.start_button.setObjectName("startTraining")
        self.stop_button = QPushButton(tr("Stop"))
        self.resume_button = QPushButton(tr("Resume"))
        self.resume_button.setToolTip(
            tr("Start the trainer again: it continues after the newest checkpoint")
        )
        self.open_button = QPushButton(tr("Open run folder"))
        self.message = QLabel(wordWrap=True)
        self.message.setObjectName("panelMessage")
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.open_button.clicked.connect(self.open_run_folder)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.resume_button, self.open_button):
            buttons.addWidget(b)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addWidget(self.message)
        left_layout.addLayout(buttons)

        self.monitor = RunMonitor(self)
        self.monitor.stateChanged.connect(self._state_changed)
        self.compare = RunCompare(project.runs_dir, self)
        self.compare.showRun.connect(self.show_run)
        self.runner = self.compare.runner  # the window waits for it on shutdown
        self.tabs = QTabWidget()
        self.tabs.addTab(self.monitor, tr("Run"))
        self.tabs.addTab(self.compare, tr("Compare runs"))
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("trainingSplit")  # remembered per project
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setSizes([scroll.minimumWidth(), 800])
        layout = QVBoxLayout(self)
        layout.addWidget(split)

        # The window reparents this widget into its tabs: remember it to watch its close.
        self._window = parent
        if parent is not None:
            parent.installEventFilter(self)  # stop the child when the window closes
        self._show_latest_run()
        self.compare.refresh()
        self._update_buttons()

    # actions ---------------------------------------------------------------------------
    def start(self) -> Path | None:
        """Write a new run folder and start the trainer on it; the run folder, or None."""
        try:
            python = self._python()
            settings = self.form.settings()
            runs = self.project.runs_dir
            run_dir = runs / new_run_name(runs, self.form.run_label())
            config = write_run_config(run_dir, settings)
        except (SetupError, OSError) as exc:
            self._error(str(exc))
            return None
        self._launch(python, config, run_dir)
        return run_dir

    def resume(self) -> None:
        run_dir = self.monitor.run_dir
        config = resume_config(run_dir) if run_dir else None
        if config is None:
            self._error(tr("This run folder has no config to resume from"))
            return
        try:
            python = self._python()
        except SetupError as exc:
            self._error(str(exc))
            return
        self._launch(python, config, run_dir)

    def stop(self) -> None:
        if self.process.running():
            self._note(tr("stopping: the trainer gets a few seconds, then it is killed"))
            self.process.stop()

    def open_run_folder(self) -> None:
        folder = self.monitor.run_dir or self.project.runs_dir
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def show_run(self, run_dir: Path) -> None:
        if self.process.running() and Path(run_dir) == self.monitor.run_dir:
            return  # already followed, with its live output
        if self.process.running():
            self._error(tr("A run is going: stop it before following another one"))
            return
        self.monitor.follow(Path(run_dir))
        self.tabs.setCurrentWidget(self.monitor)
        self._update_buttons()

    def shutdown(self) -> None:
        """The window is closing: stop the child (it can be resumed) and the reader thread."""
        self.process.shutdown()
        self.compare.runner.wait()

    # plumbing --------------------------------------------------------------------------
    def _python(self) -> str:
        python = self.form.python_path()
        if not python:
            raise SetupError(tr("Choose the Python environment to train in"))
        return python

    def _launch(self, python: str, config: Path, run_dir: Path) -> None:
        self.message.clear()
        self.monitor.follow(run_dir, own=True)
        self.monitor.append_log([f"$ {self.process.spec(python, config).display()}"])
        self.tabs.setCurrentWidget(self.monitor)
        self.process.start(python, config)
        self._update_buttons()
        self.compare.refresh()

    def _output(self, lines: list[str]) -> None:
        self.monitor.append_log(lines)

    def _note(self, text: str) -> None:
        self.monitor.append_log([f"[{text}]"])

    def _error(self, text: str) -> None:
        self.message.setStyleSheet("color: #b3261e;")
        self.message.setText(text)

    def _finished(self, code: int, how: str) -> None:
        self._note(tr("trainer {how}, exit code {code}", how=tr(ENDINGS.get(how, how)), code=code))
        self.monitor.set_own(False)
        self.monitor.mark_exit(code, how)
        if how == "failed to start":
            self._error(self.process.error_message)
            self._forget_unstarted(self.monitor.run_dir)
        elif code != 0 and how != "stopped":
            self._error(
                tr(
                    "The trainer ended with exit code {code}: see the log below the curves",
                    code=code,
                )
            )
        self._update_buttons()
        self.compare.refresh()

    def _state_changed(self, _state: str) -> None:
        self._update_buttons()
        if not self.process.running():
            self.compare.refresh()

    def _update_buttons(self) -> None:
        running = self.process.running()
        run_dir = self.monitor.run_dir
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(
            not running
            and run_dir is not None
            and self.monitor.state in RESUMABLE_STATES
            and self.monitor.has_progress()
            and resume_config(run_dir) is not None
        )
        if self.monitor.state in RESUMABLE_STATES and not self.monitor.has_progress():
            # Nothing to continue from: resuming would only repeat the same failure.
            self.resume_button.setToolTip(
                tr(
                    "Nothing to resume: the run ended before step 1. Fix the cause shown in the "
                    "log, then press Start training"
                )
            )
        else:
            self.resume_button.setToolTip(
                tr("Start the trainer again: it continues after the newest checkpoint")
            )
        self.open_button.setEnabled(run_dir is not None)

    def _show_latest_run(self) -> None:
        # Known before the first paint: a run left interrupted offers Resume right away.
        latest = latest_run_dir(self.project.runs_dir)
        if latest is not None:
            self.monitor.follow(latest)

    @staticmethod
    def _forget_unstarted(run_dir: Path | None) -> None:
        """A folder holding only the config the panel just wrote goes again (nothing ran)."""
        if run_dir is None or not run_dir.is_dir():
            return
        if [p.name for p in run_dir.iterdir()] == [RUN_CONFIG]:
            (run_dir / RUN_CONFIG).unlink()
            run_dir.rmdir()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close and watched is self._window:
            self.shutdown()
        return False


def _factory(window) -> TrainingPanel:
    return TrainingPanel(window.project, window)


register_panel(Panel("training", N_("Training"), _factory, area="tab", order=80))
