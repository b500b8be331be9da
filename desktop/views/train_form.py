"""The training configuration form: preset, base model, export, Python environment, settings.

`settings()` returns the trainer config (docs/trainer.md) as a dict: the preset's values, then
what the fields say, then the "more settings" YAML. Keys the form has no field for pass
through from the preset.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.models.machine import Machine, default_choice, detect_machine, from_env_check
from desktop.models.train_setup import (
    ExportInfo,
    Preset,
    SetupError,
    describe_export,
    list_exports,
    load_presets,
    merge_settings,
    parse_extra,
    preset_for_model,
)
from desktop.strings import N_, language, tr
from desktop.views.model_fit import ModelFitNote
from desktop.views.train_fields import check_box, default_python, dspin, side_by_side, spin
from desktop.workers.trainer_process import EnvCheck, describe_env
from trainer.config import PRECISIONS, SCHEDULES  # one list each, the trainer's own

PATH_ROLE = Qt.ItemDataRole.UserRole
# The switches under the form: (text, tooltip), in their grid order.
CHECKS = (
    (N_("Gradient checkpointing"), N_("Recompute activations: much less memory, about 30% slower")),
    (N_("4-bit QLoRA"), N_("Base weights in 4 bits (NF4): needs bitsandbytes and a CUDA GPU")),
    (N_("Evaluate held-out items"), N_("Exact-match accuracy before and after training")),
    (N_("Save a merged model"), N_("Base + adapter as one standalone model in merged/")),
)


class TrainForm(QWidget):
    changed = Signal()

    def __init__(self, project, parent=None, machine: Machine | None = None):
        super().__init__(parent)
        self.project = project
        self.presets: list[Preset] = load_presets()
        self.machine = machine or detect_machine()
        self.env_info: dict | None = None
        self.env_check = EnvCheck(self)
        self.env_check.done.connect(self._env_done)
        self.env_check.failed.connect(self._env_failed)

        self.preset = QComboBox()
        for p in self.presets:
            self.preset.addItem(p.title, p.name)
        self.preset_note = QLabel(wordWrap=True)
        self.preset_note.setObjectName("presetNote")
        self.model = QComboBox(editable=True)
        self.model.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # Long hub ids must not widen the whole form: the field scrolls its text instead.
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.model.setMinimumContentsLength(14)
        self.model.lineEdit().setPlaceholderText(tr("hub id (org/name) or a local model folder"))
        model_browse = QPushButton(tr("Folder…"))
        model_browse.clicked.connect(self._browse_model)
        self.fit_note = ModelFitNote(self)
        self.fit_note.useSmallest.connect(self.use_model)

        self.exports = QListWidget()
        self.exports.setObjectName("exportList")
        self.exports.setWordWrap(True)
        self.exports.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.exports.setMinimumHeight(90)
        self.exports.setMaximumHeight(150)
        export_browse = QPushButton(tr("Browse…"))
        export_browse.clicked.connect(self._browse_export)
        export_refresh = QPushButton(tr("Refresh"))
        export_refresh.clicked.connect(self.refresh_exports)

        self.python = QLineEdit(default_python())
        self.python.setPlaceholderText(tr("path to a Python with torch, transformers, peft"))
        python_browse = QPushButton("…")
        python_browse.setToolTip(tr("Choose a Python interpreter"))
        python_browse.setFixedWidth(python_browse.fontMetrics().horizontalAdvance("…") + 24)
        python_browse.clicked.connect(self._browse_python)
        self.check_button = QPushButton(tr("Check"))
        self.check_button.setToolTip(tr("Import torch, transformers and peft in that Python"))
        self.check_button.clicked.connect(self.check_env)
        self.env_label = QLabel(tr("Not checked yet"), wordWrap=True)
        self.env_label.setObjectName("envStatus")
        self.env_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.run_name = QLineEdit()
        self.run_name.setPlaceholderText(tr("automatic (preset + date)"))
        self.lora_r, self.lora_alpha = spin(1, 1024), spin(1, 4096)
        self.lora_dropout = dspin(0.0, 0.9, 0.05, 2)
        self.learning_rate = QLineEdit()
        self.schedule = QComboBox()
        self.schedule.addItems(SCHEDULES)
        self.epochs = dspin(0.05, 100.0, 0.5, 2)
        self.max_steps = spin(0, 10_000_000)
        self.max_steps.setSpecialValueText(tr("by epochs"))
        self.batch_size, self.grad_accum = spin(1, 1024), spin(1, 1024)
        self.max_length = spin(16, 131_072, 256)
        self.precision = QComboBox()
        self.precision.addItems(PRECISIONS)
        self.save_steps = spin(1, 1_000_000, 50)
        self.save_steps.setValue(100)
        self.seed = spin(0, 2**31 - 1)
        self.seed.setValue(42)
        self.checkpointing, self.qlora, self.evaluate, self.merge = (
            check_box(text, tip) for text, tip in CHECKS
        )
        self.evaluate.setChecked(True)
        self.extra = QPlainTextEdit()
        self.extra.setObjectName("extraSettings")
        self.extra.setPlaceholderText(
            tr("more settings as YAML, e.g.\nwarmup_ratio: 0.1\neval:\n  max_items: 100")
        )
        self.extra.setMaximumHeight(80)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, field in (
            (N_("Preset"), self.preset),
            ("", self.preset_note),
            (N_("Base model"), side_by_side(self.model, model_browse)),
            ("", self.fit_note),
            (N_("Export"), self.exports),
            ("", side_by_side(QWidget(), export_refresh, export_browse)),
            ("Python", side_by_side(self.python, python_browse, self.check_button)),
            ("", self.env_label),
            (N_("Run name"), self.run_name),
            (N_("LoRA r / alpha"), side_by_side(self.lora_r, self.lora_alpha)),
            (N_("LoRA dropout"), self.lora_dropout),
            (N_("Learning rate"), side_by_side(self.learning_rate, self.schedule)),
            (N_("Epochs / max steps"), side_by_side(self.epochs, self.max_steps)),
            (N_("Batch / accumulation"), side_by_side(self.batch_size, self.grad_accum)),
            (N_("Max length (tokens)"), self.max_length),
            (N_("Precision"), self.precision),
            (N_("Save every / seed"), side_by_side(self.save_steps, self.seed)),
        ):
            form.addRow(tr(text) if text else "", field)
        checks = QWidget()
        grid = QGridLayout(checks)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, box in enumerate((self.checkpointing, self.qlora, self.evaluate, self.merge)):
            grid.addWidget(box, i // 2, i % 2)
        form.addRow(checks)
        form.addRow(tr("More settings"), self.extra)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)

        self.preset.currentIndexChanged.connect(self._preset_changed)
        self.model.lineEdit().editingFinished.connect(self._model_edited)
        self.model.editTextChanged.connect(lambda _t: self.show_fit())
        self.qlora.toggled.connect(lambda _on: self.show_fit())
        preset, model = default_choice(self.presets, self.machine)
        self.use_model(preset.name, model)
        self.refresh_exports()

    # presets and model ---------------------------------------------------------------
    def current_preset(self) -> Preset:
        return self.presets[max(0, self.preset.currentIndex())]

    def select_preset(self, name: str) -> None:
        index = self.preset.findData(name)
        if index < 0:
            raise KeyError(name)
        self.preset.setCurrentIndex(index)

    def _preset_changed(self, _index: int) -> None:
        preset = self.current_preset()
        typed = self.model.currentText().strip()
        suggested = {m for p in self.presets for m in p.models}
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItems(list(preset.models))
        # A model the user typed or chose stays; only another preset's suggestion is replaced.
        self.model.setEditText(typed if typed and typed not in suggested else preset.models[0])
        self.model.blockSignals(False)
        self.preset_note.setText(preset.note_in(language()))
        self.apply(preset.settings)
        self.show_fit()

    def use_model(self, preset: str, model: str) -> None:
        """Select `preset` with `model` in the model field (a suggestion, or the smallest)."""
        index = self.preset.findData(preset)
        if index != self.preset.currentIndex():
            self.preset.setCurrentIndex(index)  # fills the preset's values
        else:
            self._preset_changed(index)
        self.model.setEditText(model)
        self.show_fit()

    def show_fit(self) -> None:
        """Whether the chosen model fits this machine, and its memory need."""
        model = self.model.currentText().strip()
        preset = self.current_preset()
        self.fit_note.show_fit(self.presets, preset, model, self.machine, self.qlora.isChecked())

    def _model_edited(self) -> None:
        match = preset_for_model(self.presets, self.model.currentText().strip())
        if match and match is not self.current_preset():
            self.select_preset(match.name)

    def apply(self, settings: dict) -> None:
        """Show a preset's (or a run's) values in the fields."""
        lora = settings.get("lora") or {}
        setters = {
            self.lora_r: lora.get("r"),
            self.lora_alpha: lora.get("alpha"),
            self.lora_dropout: lora.get("dropout"),
            self.epochs: settings.get("epochs"),
            self.max_steps: settings.get("max_steps") or 0,
            self.batch_size: settings.get("batch_size"),
            self.grad_accum: settings.get("grad_accum"),
            self.max_length: settings.get("max_length"),
        }
        for box, value in setters.items():
            if value is not None:
                box.setValue(value)
        if settings.get("learning_rate") is not None:
            self.learning_rate.setText(f"{float(settings['learning_rate']):g}")
        for combo, key in ((self.schedule, "lr_scheduler"), (self.precision, "precision")):
            if settings.get(key):
                combo.setCurrentText(settings[key])
        self.checkpointing.setChecked(bool(settings.get("gradient_checkpointing")))
        self.qlora.setChecked(settings.get("quantization") == "4bit")

    # exports ---------------------------------------------------------------------------
    def refresh_exports(self) -> None:
        chosen = self.export_path()
        self.exports.clear()
        for info in list_exports(self.project.exports_dir):
            self._add_export(info)
        if self.exports.count() == 0:
            hint = QListWidgetItem(
                tr("No exports in this project yet:\n    export data first, or Browse…")
            )
            hint.setFlags(Qt.ItemFlag.NoItemFlags)
            self.exports.addItem(hint)
        if chosen:
            self.select_export(chosen)
        if self.exports.currentRow() < 0:
            for row in range(self.exports.count()):
                if self.exports.item(row).flags() & Qt.ItemFlag.ItemIsEnabled:
                    self.exports.setCurrentRow(row)
                    break

    def _add_export(self, info: ExportInfo, first: bool = False) -> QListWidgetItem:
        item = QListWidgetItem(f"{info.name}\n    {info.describe()}")
        item.setData(PATH_ROLE, str(info.path))
        item.setToolTip(str(info.path))
        if not info.trainable:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        if first:
            self.exports.insertItem(0, item)
        else:
            self.exports.addItem(item)
        return item

    def select_export(self, path: str | Path) -> bool:
        for row in range(self.exports.count()):
            known = self.exports.item(row).data(PATH_ROLE)
            if known and Path(known) == Path(path):
                self.exports.setCurrentRow(row)
                return True
        info = describe_export(Path(path))
        item = self._add_export(info, first=True)
        if info.trainable:
            self.exports.setCurrentItem(item)
        return info.trainable

    def export_path(self) -> str | None:
        item = self.exports.currentItem()
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return None
        return item.data(PATH_ROLE)

    def _browse_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, tr("Export folder"), str(self.project.exports_dir)
        )
        if folder:
            self.select_export(folder)  # an untrainable folder is listed, greyed, with the reason

    def _browse_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Local model folder"))
        if folder:
            self.model.setEditText(folder)
            self._model_edited()

    def _browse_python(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Python interpreter"), self.python.text())
        if path:
            self.python.setText(path)

    # Python environment ----------------------------------------------------------------
    def check_env(self) -> None:
        python = self.python.text().strip()
        if not python:
            self._env_failed(tr("Enter the path of a Python interpreter"))
            return
        self.check_button.setEnabled(False)
        self.env_label.setStyleSheet("")
        self.env_label.setText(tr("Checking {python} …", python=python))
        self.env_check.start(python)

    def _env_done(self, info: dict) -> None:
        self.check_button.setEnabled(True)
        self.env_info = info
        self.machine = from_env_check(info, self.machine)
        self.show_fit()
        ok, text = describe_env(info)
        self.env_label.setStyleSheet(f"color: {'#2e7d4f' if ok else '#b3261e'};")
        self.env_label.setText(text)

    def _env_failed(self, message: str) -> None:
        self.check_button.setEnabled(True)
        self.env_info = None
        self.env_label.setStyleSheet("color: #b3261e;")
        self.env_label.setText(message)

    # the config --------------------------------------------------------------------------
    def settings(self) -> dict:
        """The trainer config (no output_dir); raises SetupError on a field it cannot use."""
        try:
            lr = float(self.learning_rate.text().strip())
        except ValueError:
            raise SetupError(
                tr("Learning rate is not a number: {text!r}", text=self.learning_rate.text())
            ) from None
        fields = {
            "model": self.model.currentText().strip(),
            "data": self.export_path(),
            "lora": {
                "r": self.lora_r.value(),
                "alpha": self.lora_alpha.value(),
                "dropout": round(self.lora_dropout.value(), 4),
            },
            "learning_rate": lr,
            "lr_scheduler": self.schedule.currentText(),
            "epochs": round(self.epochs.value(), 4),
            "max_steps": self.max_steps.value() or None,
            "batch_size": self.batch_size.value(),
            "grad_accum": self.grad_accum.value(),
            "max_length": self.max_length.value(),
            "precision": self.precision.currentText(),
            "gradient_checkpointing": self.checkpointing.isChecked(),
            "quantization": "4bit" if self.qlora.isChecked() else None,
            "save_steps": self.save_steps.value(),
            "seed": self.seed.value(),
            "eval": {"enabled": self.evaluate.isChecked()},
            "merge": self.merge.isChecked(),
        }
        settings = merge_settings(self.current_preset().settings, fields)
        return merge_settings(settings, parse_extra(self.extra.toPlainText()))

    def run_label(self) -> str:
        return self.run_name.text().strip() or self.current_preset().name

    def python_path(self) -> str:
        return self.python.text().strip()
