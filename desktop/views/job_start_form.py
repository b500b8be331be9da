"""The top of the Jobs panel: which stage, on what, with which backend and options, and what
the run would send and cost before it starts.

The options rows are the chosen stage's own options class, laid out from its fields
(desktop/views/option_widgets.py), one page per stage. The estimate is core's dry run
(core.pipeline.run.dry_run) over the same choices, on a pool thread; a run estimated above
the user's threshold (Settings > Interface) asks first. The stage offered first is the one
core says the project needs next, the backend one whose last test passed.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from core.errors import StudioError
from core.pipeline import stages
from desktop.models.job_plan import Scope, stage_order, uses_model
from desktop.models.jobs_model import skipped_text
from desktop.models.ui_settings import load_ui_settings
from desktop.strings import N_, tr
from desktop.views.job_widgets import phrase_text
from desktop.views.option_widgets import OptionsPage

STAGE_TITLES = {
    "ocr": N_("OCR (text in the image)"),
    "caption": N_("Caption"),
    "generate": N_("Generate instructions"),
    "check": N_("Check (rules, no model)"),
    "verify": N_("Verify answers"),
    "blind": N_("Blind check (no image, no caption)"),
    "expand": N_("Expand (rephrase / translate)"),
}
# scope choice -> its title (current_scope() turns the choice into a Scope)
SCOPES = {
    "selection": N_("Selected image"),
    "shown": N_("Images shown in the grid"),
    "domain": N_("A domain"),
    "all": N_("Everything"),
}
ESTIMATE_DELAY_MS = 300  # choices settle (typing a number) before the dry run is asked


class JobStartForm(QWidget):
    startRequested = Signal(str, object, object, object)  # stage, its options, Scope, backend
    message = Signal(str)
    estimated = Signal(object)  # core.pipeline.results.DryRunResult, or None when it failed

    def __init__(
        self,
        selection: Callable[[], list[int]],
        shown: Callable[[], list[int]],
        parent: QWidget | None = None,
        project=None,
        runner=None,
    ):
        super().__init__(parent)
        self.selection, self.shown = selection, shown
        self.project, self.runner = project, runner  # runner: a TaskRunner for the dry runs
        self.stage = QComboBox(objectName="jobStage")
        for name in stage_order():
            self.stage.addItem(tr(STAGE_TITLES.get(name) or stages.get(name).title or name), name)
        self.scope = QComboBox(objectName="jobScope")
        for key, title in SCOPES.items():
            self.scope.addItem(tr(title), key)
        self.domain = QComboBox(objectName="jobDomain")
        self.backend = QComboBox(objectName="jobBackend")
        self.pages = QStackedWidget(objectName="jobOptions")
        self._pages: dict[str, OptionsPage] = {}
        self.estimate = QLabel(objectName="jobEstimate", wordWrap=True)
        self.batch = QCheckBox(tr("Send as batches (Batch API: half price, results within 24 h)"),
                               objectName="jobBatch")  # fmt: skip
        self.batch.setToolTip(tr("The app can be closed meanwhile: it collects them when it opens"))
        self.start_button = QPushButton(tr("Start"), objectName="startJob")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.request_start)
        self.last_estimate = None  # the DryRunResult of the current choices, once it is in
        self._estimate_key = None
        self._estimate_error: str | None = None
        self._estimating = False
        self._pending: tuple | None = None  # a Start waiting for its estimate
        self._timer = QTimer(self, singleShot=True, interval=ESTIMATE_DELAY_MS)
        self._timer.timeout.connect(self._estimate_now)

        where = QHBoxLayout()
        where.addWidget(self.scope, 2)
        where.addWidget(self.domain, 1)
        form = QFormLayout(self)
        form.addRow(tr("Stage"), self.stage)
        form.addRow(tr("Run on"), where)
        form.addRow(tr("Backend"), self.backend)
        form.addRow(self.pages)
        form.addRow(tr("Estimate"), self.estimate)
        form.addRow("", self.batch)
        form.addRow("", self.start_button)
        self.stage.currentIndexChanged.connect(self._stage_changed)
        self.scope.currentIndexChanged.connect(self._scope_changed)
        self.domain.currentIndexChanged.connect(self.schedule_estimate)
        self.backend.currentIndexChanged.connect(self._backend_changed)
        self._stage_changed()
        self._scope_changed()

    # choices -----------------------------------------------------------------------------
    def set_domains(self, names: list[str]) -> None:
        current = self.domain.currentText()
        self.domain.clear()
        self.domain.addItems(names)
        if current in names:
            self.domain.setCurrentText(current)

    def set_backends(self, names: list[str]) -> None:
        """The configured backends; the one chosen stays, else one whose last test passed."""
        from core.backends.probe import passed

        current = self.backend.currentData()
        self.backend.clear()
        if not names:
            self.backend.addItem(tr("(none: add one in Tools > Settings)"), None)
        for name in names:
            self.backend.addItem(name, name)
        tested = passed(names)
        keep = current if current in names else (tested[0] if tested else None)
        index = self.backend.findData(keep)
        if index >= 0:
            self.backend.setCurrentIndex(index)

    def suggest_stage(self, name: str | None) -> None:
        """Offer the stage core says the project needs next (None: leave the choice)."""
        index = self.stage.findData(name) if name else -1
        if index >= 0:
            self.stage.setCurrentIndex(index)

    def choose(self, stage: str | None = None, scope: str | None = None, **fields) -> None:
        """Set choices by their stored values: the form's own (domain, backend) and the
        chosen stage's options by field name (tests and other panels use this)."""
        for combo, value in ((self.stage, stage), (self.scope, scope)):
            if value is not None:
                combo.setCurrentIndex(combo.findData(value))
        for name, value in fields.items():
            if name in ("domain", "backend"):
                combo = getattr(self, name)
                index = combo.findData(value)
                combo.setCurrentIndex(index if index >= 0 else combo.findText(value))
            else:
                self.page().set(name, value)

    def page(self, stage: str | None = None) -> OptionsPage:
        """The options page of `stage` (the chosen one), made when first shown."""
        stage = stage or self.stage.currentData()
        if stage not in self._pages:
            page = OptionsPage(stages.get(stage).options, self)
            page.changed.connect(self.schedule_estimate)
            self._pages[stage] = page
            self.pages.addWidget(page)
        return self._pages[stage]

    def _stage_changed(self) -> None:
        current = self.page()
        for page in self._pages.values():  # the stack takes the height of the page shown
            vertical = (
                QSizePolicy.Policy.Preferred if page is current else QSizePolicy.Policy.Ignored
            )
            page.setSizePolicy(QSizePolicy.Policy.Preferred, vertical)
        self.pages.setCurrentWidget(current)
        self.pages.adjustSize()
        self.schedule_estimate()

    def _backend_changed(self) -> None:
        """The batch box follows the backend's own setting; off for backends without one."""
        from core.backends.base import BackendConfigError
        from core.backends.registry import capabilities_of
        from core.backends.settings import load_backends

        config = None
        try:
            config = load_backends().get(self.backend.currentData() or "")
            able = config is not None and capabilities_of(config).batch
        except BackendConfigError:
            able = False
        self.batch.setEnabled(able)
        self.batch.setChecked(bool(able and config.use_batch_api))
        self.schedule_estimate()

    def use_batch(self) -> bool | None:
        """This run's Batch API choice (None: the backend has none)."""
        return self.batch.isChecked() if self.batch.isEnabled() else None

    def _scope_changed(self) -> None:
        self.domain.setEnabled(self.scope.currentData() == "domain")
        self.schedule_estimate()

    # the estimate ------------------------------------------------------------------------
    def schedule_estimate(self, *_args) -> None:
        if self.project is not None and self.runner is not None:
            self._timer.start()

    def _choices(self):
        """(stage, options, scope, backend, key) as chosen now; raises StudioError."""
        stage, backend = self.stage.currentData(), self.backend.currentData()
        opts, scope = self.options(), self.current_scope()
        shown = json.dumps(opts.to_json(), sort_keys=True, default=str)
        return stage, opts, scope, backend, (stage, scope, backend, shown)

    def _estimate_now(self) -> None:
        try:
            stage, opts, scope, backend, key = self._choices()
        except StudioError as exc:
            self._estimate_key, self.last_estimate, self._estimating = None, None, False
            self.estimate.setText(str(exc))
            return
        if key == self._estimate_key and (self._estimating or self.last_estimate is not None):
            return
        self._estimate_key, self.last_estimate, self._estimate_error = key, None, None
        self._estimating = True
        self.estimate.setText(tr("Counting the requests…"))
        project = self.project

        def work(_report):
            from core.backends.registry import make_backend
            from desktop.models.job_plan import estimate

            model = make_backend(backend) if backend and uses_model(stage, opts) else None
            try:
                return key, estimate(project, stage, opts, scope, model)
            finally:
                if model is not None:
                    model.close()

        self.runner.submit(work, self._estimated, lambda exc: self._not_estimated(key, exc))

    def _estimated(self, result) -> None:
        key, dry = result
        if key != self._estimate_key:
            return  # the choices changed meanwhile; a newer estimate is on its way
        self._estimating, self.last_estimate = False, dry
        text = phrase_text(dry.describe())
        skipped = skipped_text(dry.skipped or {})
        self.estimate.setText(text + (tr(" (skipped: {what})", what=skipped) if skipped else ""))
        self.estimated.emit(dry)
        if self._pending is not None and self._pending[-1] == key:
            self._decide()

    def _not_estimated(self, key, exc: BaseException) -> None:
        if key != self._estimate_key:
            return
        self._estimating, self._estimate_error = False, str(exc)
        self.estimate.setText(tr("cannot estimate: {error}", error=str(exc)))
        self.estimated.emit(None)
        if self._pending is not None and self._pending[-1] == key:
            self._decide()  # the run itself will say what is wrong

    def busy(self) -> bool:
        """An estimate is due or on its way."""
        return self._timer.isActive() or self._estimating

    # starting ----------------------------------------------------------------------------
    def options(self):
        """The chosen stage's own options, as the form shows them."""
        stage = self.stage.currentData()
        return stages.get(stage).options(**self.page(stage).values())

    def current_scope(self) -> Scope:
        kind = self.scope.currentData()
        if kind == "selection":
            return Scope("images", tuple(self.selection()))
        if kind == "shown":
            ids = tuple(self.shown())
            if not ids:
                raise StudioError(
                    tr("the grid shows no images: clear the filters or pick a domain")
                )
            return Scope("images", ids)
        if kind == "domain":
            return Scope("domain", domain=self.domain.currentText() or None)
        return Scope("all")

    def request_start(self) -> None:
        """Start the run as chosen; a model run waits for its estimate, and one estimated
        above the threshold asks first."""
        try:
            choices = self._choices()
        except StudioError as exc:
            self.message.emit(str(exc))
            return
        stage, opts, _scope, _backend, key = choices
        self._pending = choices
        if self.project is None or self.runner is None or not uses_model(stage, opts):
            self._decide()
        elif key == self._estimate_key and not self._estimating:
            self._decide()
        else:
            self._timer.stop()
            self._estimate_now()  # _estimated() decides once it lands

    def _decide(self) -> None:
        stage, opts, scope, backend, _key = self._pending
        self._pending = None
        dry = self.last_estimate
        cost = dry.estimated_cost_usd if dry is not None and uses_model(stage, opts) else None
        limit = float(load_ui_settings()["confirm_cost_usd"])
        if cost is not None and cost > limit and not self.ask_confirmation(dry, limit):
            self.message.emit(tr("Not started: the estimate is above your limit"))
            return
        self.startRequested.emit(stage, opts, scope, backend)

    def ask_confirmation(self, dry, limit: float) -> bool:
        answer = QMessageBox.question(
            self,
            tr("Start this run?"),
            tr(
                "{n:,} requests, estimated to cost at most ${cost:.4f}: more than your limit "
                "of ${limit:.2f} (Tools > Settings > Interface). Start it?",
                n=dry.requests,
                cost=dry.estimated_cost_usd,
                limit=limit,
            ),
        )
        return answer == QMessageBox.StandardButton.Yes
