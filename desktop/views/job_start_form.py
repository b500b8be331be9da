"""The top of the Jobs panel: which stage, on what, with which backend and options."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.errors import StudioError
from core.pipeline.common import StageOptions
from desktop.models.job_plan import Scope, stage_order
from desktop.strings import N_, tr

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
# Options that only mean something for one stage: shown for that stage, hidden otherwise.
STAGE_ONLY = {"expand": ("mode",), "ocr": ("ocr_engine",)}


class JobStartForm(QWidget):
    startRequested = Signal(str, object, object, object)  # stage, StageOptions, Scope, backend
    message = Signal(str)

    def __init__(
        self,
        selection: Callable[[], list[int]],
        shown: Callable[[], list[int]],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.selection, self.shown = selection, shown
        self.threads: int | None = None  # embedded OCR threads (None: the engine decides)
        self.stage = QComboBox(objectName="jobStage")
        for name in stage_order():
            self.stage.addItem(tr(STAGE_TITLES.get(name, name)), name)
        self.scope = QComboBox(objectName="jobScope")
        for key, title in SCOPES.items():
            self.scope.addItem(tr(title), key)
        self.domain = QComboBox(objectName="jobDomain")
        self.backend = QComboBox(objectName="jobBackend")
        self.lang = QComboBox(objectName="jobLang")
        self.lang.addItem(tr("English"), "en")
        self.lang.addItem(tr("Chinese"), "zh")
        self.mode = QComboBox(objectName="jobMode")
        self.mode.addItem(tr("Rephrase questions"), "rephrase")
        self.mode.addItem(tr("Translate EN ⇄ ZH"), "translate")
        self.ocr_engine = QComboBox(objectName="jobOcrEngine")
        self.ocr_engine.addItem(tr("Embedded (RapidOCR)"), "rapidocr")
        self.ocr_engine.addItem(tr("The vision model"), "vlm")
        self.limit = QSpinBox(objectName="jobLimit")
        self.limit.setRange(0, 10_000_000)
        self.limit.setSpecialValueText(tr("no limit"))
        self.budget = QDoubleSpinBox(objectName="jobBudget")
        self.budget.setRange(0, 100_000)
        self.budget.setDecimals(4)
        self.budget.setPrefix("$ ")
        self.budget.setSpecialValueText(tr("no budget"))
        self.force = QCheckBox(tr("Redo items that already have a result"))
        self.batch = QCheckBox(tr("Send as batches (Batch API: half price, results within 24 h)"),
                               objectName="jobBatch")  # fmt: skip
        self.batch.setToolTip(tr("The app can be closed meanwhile: it collects them when it opens"))
        self.backend.currentIndexChanged.connect(self._backend_changed)
        self.start_button = QPushButton(tr("Start"), objectName="startJob")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.request_start)

        where = QHBoxLayout()
        where.addWidget(self.scope, 2)
        where.addWidget(self.domain, 1)
        what = QHBoxLayout()
        what.addWidget(self.stage, 2)
        what.addWidget(self.lang, 1)
        limits = QHBoxLayout()
        limits.addWidget(QLabel(tr("Limit")))
        limits.addWidget(self.limit)
        limits.addWidget(QLabel(tr("Budget")))
        limits.addWidget(self.budget)
        form = QFormLayout(self)
        form.addRow(tr("Stage"), what)
        form.addRow(tr("Run on"), where)
        form.addRow(tr("Backend"), self.backend)
        self._rows = {
            "mode": (QLabel(tr("Expand")), self.mode),
            "ocr_engine": (QLabel(tr("OCR engine")), self.ocr_engine),
        }
        for label, field in self._rows.values():
            form.addRow(label, field)
        form.addRow("", limits)
        form.addRow("", self.force)
        form.addRow("", self.batch)
        form.addRow("", self.start_button)
        self.stage.currentIndexChanged.connect(self._stage_changed)
        self.scope.currentIndexChanged.connect(self._scope_changed)
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
        current = self.backend.currentData()
        self.backend.clear()
        if not names:
            self.backend.addItem(tr("(none: add one in Tools > Settings)"), None)
        for name in names:
            self.backend.addItem(name, name)
        index = self.backend.findData(current)
        if index >= 0:
            self.backend.setCurrentIndex(index)

    def choose(self, stage: str | None = None, scope: str | None = None, **fields) -> None:
        """Set choices by their stored values (tests and other panels use this)."""
        for combo, value in ((self.stage, stage), (self.scope, scope)):
            if value is not None:
                combo.setCurrentIndex(combo.findData(value))
        for name, value in fields.items():
            widget = getattr(self, name)
            if isinstance(widget, QComboBox):
                index = widget.findData(value)
                widget.setCurrentIndex(index if index >= 0 else widget.findText(value))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            else:
                widget.setValue(value)

    def _stage_changed(self) -> None:
        stage = self.stage.currentData()
        shown = set(STAGE_ONLY.get(stage, ()))
        for name, (label, field) in self._rows.items():
            label.setVisible(name in shown)
            field.setVisible(name in shown)

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

    def use_batch(self) -> bool | None:
        """This run's Batch API choice (None: the backend has none)."""
        return self.batch.isChecked() if self.batch.isEnabled() else None

    def _scope_changed(self) -> None:
        self.domain.setEnabled(self.scope.currentData() == "domain")

    # starting ----------------------------------------------------------------------------
    def options(self) -> StageOptions:
        return StageOptions(
            lang=self.lang.currentData(),
            limit=self.limit.value() or None,
            budget_usd=self.budget.value() or None,
            force=self.force.isChecked(),
            mode=self.mode.currentData(),
            ocr_engine=self.ocr_engine.currentData(),
            threads=self.threads,
        )

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
        try:
            scope = self.current_scope()
        except StudioError as exc:
            self.message.emit(str(exc))
            return
        stage = self.stage.currentData()
        self.startRequested.emit(stage, self.options(), scope, self.backend.currentData())
