"""The Jobs tab: start a pipeline stage, follow it live, pause / resume / stop / cancel it, see
its failures with their reasons and retry them, and pick up jobs a previous run left unfinished.

Progress comes from the engine's events (core.jobs.JobEvent), re-emitted by JobWorker as a Qt
signal; database reads (the job list, failures) run on a pool thread.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.models.jobs_model import (
    PROGRESS_COLUMN,
    JobRow,
    JobsModel,
    row_from_stored,
    skipped_text,
    stage_text,
    status_text,
)
from desktop.panels import MenuAction, Panel, register_action, register_panel
from desktop.strings import N_, tr
from desktop.views.job_start_form import JobStartForm
from desktop.views.job_widgets import FailuresTable, ProgressDelegate, describe_outcome
from desktop.workers.job_worker import JobWorker
from desktop.workers.tasks import TaskRunner


class JobsPanel(QWidget):
    jobFinished = Signal(int)  # a job or direct run changed project data
    changed = Signal(object)  # core.changes.Changes: which images and instructions

    def __init__(self, project, selection=None, shown=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = project
        self.worker = JobWorker(project, self)
        self.runner = self.worker  # MainWindow.shutdown() calls runner.wait()
        self.reader = TaskRunner(self, threads=1)
        self.current_key: int | str | None = None

        self.form = JobStartForm(selection or (lambda: []), shown or (lambda: []), self,
                                 project=project, runner=self.worker.pool)  # fmt: skip
        self.form.startRequested.connect(self.start)
        self.form.message.connect(self.say)
        self.model = JobsModel(self)
        self.table = QTableView(objectName="jobsTable")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(PROGRESS_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.model.modelReset.connect(self._reselect)

        self.bar = QProgressBar(objectName="jobProgress")
        self.summary = QLabel(objectName="jobSummary", wordWrap=True)
        self.pause_button = QPushButton(tr("Pause"), objectName="pauseJob")
        self.resume_button = QPushButton(tr("Resume"), objectName="resumeJob")
        self.stop_button = QPushButton(tr("Stop"), objectName="stopJob")
        self.stop_button.setToolTip(tr("Finish the requests on the wire; the rest stays pending"))
        self.cancel_button = QPushButton(tr("Cancel"), objectName="cancelJob")
        self.cancel_button.setToolTip(tr("Abort now; unfinished items go back to pending"))
        self.retry_button = QPushButton(tr("Retry failed"), objectName="retryJob")
        self.resample_button = QPushButton(tr("Re-sample"), objectName="resampleJob")
        self.resample_button.setToolTip(
            tr("Ask the model again for this job's images with a new seed and temperature, "
               "instead of the answers the reply cache gave")
        )  # fmt: skip
        self.refresh_button = QPushButton(tr("Refresh"), objectName="refreshJobs")
        for button, slot in (
            (self.pause_button, self.pause),
            (self.resume_button, self.resume),
            (self.stop_button, self.stop),
            (self.cancel_button, self.cancel),
            (self.retry_button, self.retry),
            (self.resample_button, self.resample),
            (self.refresh_button, self.reload),
        ):
            button.clicked.connect(slot)
        self.failures = FailuresTable(self)
        self.message = QLabel(objectName="panelMessage", wordWrap=True)
        self._layout()

        w = self.worker
        w.event.connect(self._event)
        w.jobStarted.connect(self._job_started)
        w.jobEnded.connect(self._job_ended)
        w.nothingToDo.connect(self._nothing_to_do)
        w.directStarted.connect(self._direct_started)
        w.directProgress.connect(self._direct_progress)
        w.directEnded.connect(self._direct_ended)
        w.failed.connect(self.say)
        w.changed.connect(self.changed)
        self.reload_choices()
        self.reload(recover=True)
        self._suggest_stage()
        self._update_buttons()

    def _layout(self) -> None:
        start_box = QGroupBox(tr("Start a job"))
        QVBoxLayout(start_box).addWidget(self.form)
        buttons = QHBoxLayout()
        for b in (self.pause_button, self.resume_button, self.stop_button, self.cancel_button,
                  self.retry_button, self.resample_button):  # fmt: skip
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        jobs = QWidget()
        jobs_layout = QVBoxLayout(jobs)
        jobs_layout.setContentsMargins(0, 0, 0, 0)
        jobs_layout.addWidget(self.table, 1)
        jobs_layout.addWidget(self.bar)
        jobs_layout.addWidget(self.summary)
        jobs_layout.addLayout(buttons)
        fail_box = QGroupBox(tr("Failed items of the selected job"))
        QVBoxLayout(fail_box).addWidget(self.failures)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(jobs)
        split.addWidget(fail_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        left = QVBoxLayout()
        left.addWidget(start_box)
        left.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(left, 0)
        top.addWidget(split, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.message)

    # loading -----------------------------------------------------------------------------
    def reload_choices(self) -> None:
        """Domains and backends for the start form (after Settings saved a backend, say)."""
        from core.backends.base import BackendConfigError
        from core.backends.settings import load_backends
        from core.domains import list_domains

        self.form.set_domains([d.name for d in list_domains(self.project.db)])
        try:
            self.form.set_backends(sorted(load_backends()))
        except BackendConfigError as exc:
            self.form.set_backends([])
            self.say(str(exc))

    def _suggest_stage(self) -> None:
        """Offer the stage the project needs next (core decides), read on the pool."""
        from core.pipeline.stages import next_stage

        project = self.project
        self.reader.submit(lambda _r: next_stage(project), self.form.suggest_stage)

    def reload(self, recover: bool = False) -> None:
        """Jobs stored in the project, read on a pool thread. `recover` (once, when the window
        opens, before any job of ours can start): jobs a dead process left running become
        stopped, ready to resume. It is two small statements, so it runs here."""
        db = self.project.db
        if recover:
            from core.jobs import recover_on_open

            recover_on_open(db)
            self.worker.collect_batches()  # batches sent before the app was closed

        def read(_report):
            from core.store import jobs as js

            return [row_from_stored(j, js.job_usage(db, j["id"])) for j in js.list_jobs(db)]

        self.reader.submit(
            read, self._stored, lambda e: self.say(tr("cannot list jobs: {error}", error=e))
        )

    def _stored(self, rows: list[JobRow]) -> None:
        self.model.set_stored(rows, set(self.worker.live))
        self._update_buttons()

    def _load_failures(self, job_id: int) -> None:
        db = self.project.db

        def read(_report):
            from core.store import jobs as js

            return job_id, js.failed_items(db, job_id)

        self.reader.submit(read, self._show_failures)

    def _show_failures(self, result) -> None:
        job_id, rows = result
        if job_id != self.current_key:
            return
        self.failures.show_rows(rows)

    # worker signals ----------------------------------------------------------------------
    def _job_started(self, job_id: int, info: dict) -> None:
        row = self.model.job(job_id) or JobRow(job_id, info.get("stage", ""), status="running")
        row.stage, row.backend = info.get("stage", row.stage), info.get("backend", row.backend)
        row.scope = info.get("scope") or row.scope
        self.model.upsert(row)
        self.select(job_id)
        skipped = skipped_text(info.get("skipped") or {}, sep=" ")
        note = tr(" (skipped: {what})", what=skipped) if skipped else ""
        self.say(
            tr(
                "Job {id} started: {stage} on {scope}{note}",
                id=job_id,
                stage=stage_text(row.stage),
                scope=row.scope,
                note=note,
            )
        )

    def _event(self, ev) -> None:
        i = self.model.apply_event(ev)
        if ev.job_id == self.current_key:
            if ev.kind == "item_failed" and ev.message:
                key, _, rest = ev.message.partition(": ")
                reason, _, error = rest.partition(": ")
                self.failures.add(key, "", reason, error)
            self._show_row(self.model.rows[i])
        self._update_buttons()

    def _job_ended(self, job_id: int, final) -> None:
        row = self.model.job(job_id)
        if row is not None:
            row.in_flight, row.eta_s = 0, None
            self.model.changed(self.model.row_of(job_id))
        status = status_text(final.status if final is not None else "failed")
        self.say(
            tr("Job {id} ended: {status}", id=job_id, status=status)
            + (f" ({final.message})" if final and final.message else "")
        )
        self.reload()
        if job_id == self.current_key:
            self._load_failures(job_id)
        self.jobFinished.emit(job_id)

    def _nothing_to_do(self, stage: str, skipped: dict) -> None:
        done = skipped_text(skipped)
        self.say(
            tr("Nothing to do for {stage}", stage=stage_text(stage))
            + (f" ({done})" if done else "")
        )

    def _direct_started(self, key: str, stage: str) -> None:
        self.model.upsert(JobRow(key, stage, scope="", status="running", direct=True))
        self.select(key)

    def _direct_progress(self, key: str, done: int, total: int) -> None:
        row = self.model.job(key)
        if row is None:
            return
        row.done, row.total = done, total
        self.model.changed(self.model.row_of(key))
        if key == self.current_key:
            self._show_row(row)

    def _direct_ended(self, key: str, outcome) -> None:
        row = self.model.job(key)
        if row is not None:
            row.status, row.reason = outcome.status, outcome.error
            if outcome.result is not None:
                row.done = row.total = max(row.total, outcome.result.count())
            self.model.changed(self.model.row_of(key))
            if key == self.current_key:
                self._show_row(row)
        self.say(f"{stage_text(outcome.stage)}: {describe_outcome(outcome)}")
        self._update_buttons()
        self.jobFinished.emit(-1)

    # actions -----------------------------------------------------------------------------
    def start(self, stage, opts, scope, backend) -> None:
        self.say(tr("Planning {stage} on {scope}…", stage=stage_text(stage), scope=scope.label()))
        self.worker.start(stage, opts, scope, backend, batch=self.form.use_batch())

    def selected(self) -> JobRow | None:
        return None if self.current_key is None else self.model.job(self.current_key)

    def pause(self) -> None:
        if (row := self.selected()) is not None:
            self.worker.pause(row.key)

    def resume(self) -> None:
        row = self.selected()
        if row is None:
            return
        if self.worker.is_live(row.key):
            self.worker.resume(row.key)
        elif row.resumable:
            backend = self.form.backend.currentData() or row.backend
            if row.status == "budget":  # it spent its budget: go on under the form's budget
                budget = self.form.options().budget_usd
                shown = f"${budget:.4f}" if budget else tr("no budget")
                self.say(tr("Resuming job {id} with {budget}…", id=row.key, budget=shown))
                self.worker.resume_job(row.key, backend, budget_usd=budget, new_budget=True)
                return
            self.say(tr("Resuming job {id}…", id=row.key))
            self.worker.resume_job(row.key, backend)

    def stop(self) -> None:
        if (row := self.selected()) is not None:
            self.worker.stop(row.key)

    def cancel(self) -> None:
        row = self.selected()
        if row is None:
            return
        if row.direct:
            self.worker.cancel_direct(row.key)
        else:
            self.worker.cancel(row.key)

    def retry(self) -> None:
        row = self.selected()
        if row is None or row.direct or self.worker.is_live(row.key) or not row.failed:
            return
        self.say(tr("Retrying the {n} failed item(s) of job {id}…", n=row.failed, id=row.key))
        self.failures.setRowCount(0)
        self.worker.resume_job(row.key, self.form.backend.currentData() or row.backend, retry=True)

    def resample(self) -> None:
        row = self.selected()
        if row is None or row.direct or self.worker.is_live(row.key):
            return
        self.say(tr("Re-sampling the images of job {id}…", id=row.key))
        self.worker.resample_job(row.key, self.form.backend.currentData() or row.backend)

    # selection and display ---------------------------------------------------------------
    def select(self, key) -> None:
        i = self.model.row_of(key)
        if i is not None:
            self.table.selectRow(i)
            self.table.setCurrentIndex(self.model.index(i, 0))

    def _reselect(self) -> None:
        if self.current_key is not None and self.model.row_of(self.current_key) is not None:
            self.select(self.current_key)
        elif self.model.rows:
            self.select(self.model.rows[0].key)

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        key = self.model.rows[current.row()].key if current.isValid() else None
        if key == self.current_key:
            return
        self.current_key = key
        self.failures.setRowCount(0)
        row = self.selected()
        if row is not None:
            self._show_row(row)
            if not row.direct:
                self._load_failures(row.key)
        self._update_buttons()

    def _show_row(self, row: JobRow) -> None:
        self.bar.setRange(0, max(1, row.total))
        self.bar.setValue(min(row.total, row.done))  # failed items are no progress
        self.bar.setFormat(f"{stage_text(row.stage)} — {status_text(row.status)} — %p%")
        self.summary.setText(row.summary())

    def _update_buttons(self) -> None:
        row = self.selected()
        live = row is not None and self.worker.is_live(row.key)
        running_direct = row is not None and row.direct and row.status == "running"
        self.pause_button.setEnabled(live and row.status == "running")
        self.resume_button.setEnabled(
            row is not None and ((live and row.status == "paused") or (not live and row.resumable))
        )
        self.stop_button.setEnabled(live)
        self.cancel_button.setEnabled(live or running_direct)
        self.retry_button.setEnabled(
            row is not None and not row.direct and not live and row.failed > 0
        )
        self.resample_button.setEnabled(  # some answers came from the cache: ask again
            row is not None and not row.direct and not live and row.cached > 0
        )

    def say(self, text: str) -> None:
        self.message.setText(text)

    def busy(self) -> bool:
        return self.worker.busy() or self.reader.busy() or self.form.busy()


# registration with the main window ---------------------------------------------------------
def _selected_ids(window) -> list[int]:
    chosen = getattr(window, "selected_image_ids", None)  # a multi-selection, when the grid has one
    if callable(chosen):
        return list(chosen())
    current = window.grid.current_image()
    return [current] if current is not None else []


def _factory(window) -> JobsPanel:
    panel = JobsPanel(
        window.project,
        selection=lambda: _selected_ids(window),
        shown=lambda: [int(i) for i in window.model.ids()],
        parent=window,
    )
    panel.jobFinished.connect(lambda _k: window.refresh_library())
    panel.changed.connect(window.show_changes)
    return panel


def _show_jobs(window) -> None:
    window.show_panel("jobs")


register_panel(Panel("jobs", N_("Jobs"), _factory, area="tab", order=40))
register_action(MenuAction("View", N_("Jobs"), _show_jobs, shortcut="Ctrl+J", order=40))
