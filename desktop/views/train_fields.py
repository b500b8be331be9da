"""Small field builders of the training form (kept apart so the form stays one screen long)."""

from __future__ import annotations

import shutil
import sys

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QSpinBox, QWidget

from desktop.strings import tr


def default_python() -> str:
    """This interpreter, unless the app is frozen (its executable is not a Python then)."""
    if getattr(sys, "frozen", False):
        return shutil.which("python3") or shutil.which("python") or ""
    return sys.executable


def spin(lo: int, hi: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    return box


def dspin(lo: float, hi: float, step: float, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    return box


def check_box(text: str, tip: str) -> QCheckBox:
    """A switch whose English `text` and `tip` (marked with N_) are shown translated."""
    box = QCheckBox(tr(text))
    box.setToolTip(tr(tip))
    return box


def side_by_side(*widgets) -> QWidget:
    """Widgets side by side; the first one takes the spare width."""
    box = QWidget()
    line = QHBoxLayout(box)
    line.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        line.addWidget(w, 1 if i == 0 else 0)
    return box
