"""The line under the base model: the memory a run needs on this machine, and, when the
model does not fit (or is a multi-billion model on a CPU), the smallest preset to use instead."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.models.machine import (
    Fit,
    Machine,
    memory_need_gb,
    model_fit,
    params_from_name,
    smallest_model,
)
from desktop.strings import tr

WARN = "color: #b3261e;"


def format_size(params_b: float) -> str:
    if params_b < 1:
        return tr("{n:.0f}M weights", n=params_b * 1000)
    return tr("{n:.1f}B weights", n=params_b)


def where_text(machine: Machine) -> str:
    if machine.accelerator == "cuda":
        return tr("GPU memory")
    if machine.accelerator == "mps":
        return tr("memory (Apple GPU, trained on the CPU)")
    return tr("memory (CPU only)")


def machine_text(machine: Machine) -> str:
    """This machine in a few words, for the note and its tooltip."""
    if machine.accelerator == "cuda":
        gpus = ", ".join(machine.gpus) or tr("a CUDA GPU")
        if machine.gpu_memory_gb:
            return tr("{gpus}, {gb:.0f} GB", gpus=gpus, gb=machine.gpu_memory_gb)
        return gpus
    ram = f"{machine.ram_gb:.0f}" if machine.ram_gb else "?"
    return tr("no CUDA GPU, {gb} GB RAM", gb=ram)


class ModelFitNote(QWidget):
    useSmallest = Signal(str, str)  # preset name, model

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel(wordWrap=True)
        self.label.setObjectName("modelFit")
        self.button = QPushButton(tr("Use the smallest"))
        self.button.setObjectName("useSmallest")
        self.button.hide()
        self.button.clicked.connect(self._use)
        # Text above, button below: the form's column is narrow and the warning is long.
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.label)
        column.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        self.fit: Fit | None = None
        self._smallest: tuple[str, str] | None = None

    def show_fit(self, presets, preset, model: str, machine: Machine, qlora: bool) -> Fit:
        size = preset.sizes.get(model) or params_from_name(model)
        fit = model_fit(size, machine, qlora)
        self.fit = fit
        where = where_text(machine)
        self.label.setToolTip(tr("This machine: {what}", what=machine_text(machine)))
        if fit.reason == "unknown":
            self.label.setStyleSheet("")
            self.label.setText(
                tr("Memory need unknown: the model's size is in neither the presets nor its name")
            )
        elif fit.fits:
            self.label.setStyleSheet("")
            self.label.setText(
                tr(
                    "Needs about {need:.1f} GB of {where} ({size})",
                    need=fit.need_gb,
                    where=where,
                    size=format_size(size),
                )
            )
        else:
            self.label.setStyleSheet(WARN)
            self.label.setText(self._warning(fit, machine, where, presets, model))
        self.button.setVisible(not fit.fits and self._smallest is not None)
        return fit

    def _warning(self, fit: Fit, machine: Machine, where: str, presets, model: str) -> str:
        if fit.reason == "too_big":
            text = tr(
                "This model ({size}) needs about {need:.1f} GB of {where}; this machine has "
                "{have:.0f} GB.",
                size=format_size(fit.params_b),
                need=fit.need_gb,
                where=where,
                have=machine.memory_gb,
            )
        else:
            text = tr(
                "No CUDA GPU found: this model ({size}) needs about {need:.1f} GB of memory and "
                "trains very slowly on the CPU.",
                size=format_size(fit.params_b),
                need=fit.need_gb,
            )
        small = smallest_model(presets)
        self._smallest = None
        if small is not None and small[1] != model:
            preset, name, size = small
            self._smallest = (preset.name, name)
            need = memory_need_gb(size, machine.accelerator)
            text += " " + tr(
                "The smallest preset: {title} with {model}, about {need:.1f} GB.",
                title=preset.title,
                model=name,
                need=need,
            )
        return text

    def _use(self) -> None:
        if self._smallest is not None:
            self.useSmallest.emit(*self._smallest)
