"""The Jobs form's option widgets, built from a stage's options dataclass.

`OptionsPage(cls)` lays out one editor per field core/pipeline/option_fields.py describes
(label, kind, choices, bounds); an editor class per kind, in `EDITORS`. A stage added with
its own options gets its page without code here. Labels come from core in English and are
translated here (desktop/i18n has the built-ins').
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from core.pipeline.option_fields import OptionField, form_fields
from desktop.strings import N_, label, tr

BIG = 1_000_000_000
# The words core declares for the built-in stages' options and results (core/pipeline/
# options.py, results.py), marked here so the table scan keeps their Chinese entries;
# tests/desktop/test_jobs_form.py checks every built-in one has an entry.
CORE_TEXTS = (
    N_("Language"), N_("English"), N_("Chinese"), N_("Limit"), N_("no limit"),
    N_("Redo items that already have a result"), N_("Budget"), N_("no budget"),
    N_("Minimum caption length"), N_("default"), N_("Types"), N_("Items per type"),
    N_("Seed questions per request"), N_("Output format"), N_("Tagged (the paper's layout)"),
    N_("JSON"), N_("Send the image too"), N_("Long answers of one image as one conversation"),
    N_("Temperature"), N_("Sampling seed"), N_("Only items in these statuses"),
    N_("Short answers agree at"), N_("Verify against"), N_("The image (a vision model)"),
    N_("The caption (a text model)"), N_("Trials per item"), N_("Flag at score"),
    N_("Expand"), N_("Rephrase questions"), N_("Translate EN ⇄ ZH"),
    N_("Import a dataset file"), N_("Dataset file or folder (import)"),
    N_("Dataset format (import)"), N_("OCR engine"), N_("Embedded (RapidOCR)"),
    N_("The vision model"), N_("OCR threads"), N_("automatic"),
    N_("{done:,} done, {failed:,} failed, {cached:,} from cache, ${cost:.4f}"),
    N_("{checked:,} items checked on {images}, {flagged:,} flagged"),
    N_("{images:,} images read, {with_text:,} with text"),
    N_("{images:,} images read, {with_text:,} with text, {n} failed"),
    N_("{instructions:,} items imported from {records:,} {format} records"),
    N_("job {job}: {status}, {done:,} done, {failed:,} failed, ${cost:.4f}"),
    N_("{n:,} request(s), estimated cost at most ${cost:.4f}"),
    N_("{n:,} request(s), cost unknown (the model is not in the price table)"),
    N_("no model requests: it runs here and costs nothing"),
)  # fmt: skip


def _choice_text(field: OptionField, value: str) -> str:
    if field.vocabulary:
        return label(field.vocabulary, value)
    return tr(field.choice_labels.get(value, value))


class Editor:
    """One option: `widget`, `get()` (the option's value) and `set(value)`; `changed` runs
    after every edit."""

    def __init__(self, field: OptionField, changed):
        self.field = field
        self.widget = self.build(changed)
        self.widget.setObjectName(f"opt_{field.name}")
        self.widget.setToolTip(field.help)
        self.set(field.default)

    def build(self, changed) -> QWidget:
        raise NotImplementedError

    def row_label(self) -> str:
        return tr(self.field.label)


class BoolEditor(Editor):
    def build(self, changed):
        box = QCheckBox(tr(self.field.label))
        box.toggled.connect(changed)
        return box

    def row_label(self) -> str:
        return ""

    def get(self):
        return self.widget.isChecked()

    def set(self, value):
        self.widget.setChecked(bool(value))


class IntEditor(Editor):
    spin = QSpinBox

    def build(self, changed):
        f = self.field
        box = self.spin()
        low = f.minimum if f.minimum is not None else -BIG
        box.setRange(low, f.maximum if f.maximum is not None else BIG)
        if isinstance(box, QDoubleSpinBox):
            box.setDecimals(f.decimals)
            box.setSingleStep(10 ** -min(f.decimals, 2))
        if f.prefix:
            box.setPrefix(f.prefix)
        if f.optional and f.special:
            box.setSpecialValueText(tr(f.special))  # the minimum stands for "not set"
        box.valueChanged.connect(changed)
        return box

    def get(self):
        value = self.widget.value()
        if self.field.optional and value == self.widget.minimum():
            return None
        return value

    def set(self, value):
        self.widget.setValue(self.widget.minimum() if value is None else value)


class FloatEditor(IntEditor):
    spin = QDoubleSpinBox


class TextEditor(Editor):
    def build(self, changed):
        edit = QLineEdit()
        edit.textChanged.connect(changed)
        return edit

    def get(self):
        text = self.widget.text().strip()
        return text or (None if self.field.optional else "")

    def set(self, value):
        self.widget.setText(value or "")


class ChoiceEditor(Editor):
    def build(self, changed):
        combo = QComboBox()
        for value in self.field.choices:
            combo.addItem(_choice_text(self.field, value), value)
        combo.currentIndexChanged.connect(changed)
        return combo

    def get(self):
        return self.widget.currentData()

    def set(self, value):
        index = self.widget.findData(value)
        if index >= 0:
            self.widget.setCurrentIndex(index)


class ChoicesEditor(Editor):
    """A check box per choice; none checked is "not set" where the option allows it."""

    def build(self, changed):
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes = {}
        for k, value in enumerate(self.field.choices):
            check = QCheckBox(_choice_text(self.field, value), objectName=f"opt_{value}")
            check.toggled.connect(changed)
            grid.addWidget(check, k // 2, k % 2)
            self.boxes[value] = check
        return box

    def get(self):
        chosen = [v for v, check in self.boxes.items() if check.isChecked()]
        return chosen or (None if self.field.optional else [])

    def set(self, value):
        for v, check in self.boxes.items():
            check.setChecked(v in (value or ()))


class CountsEditor(Editor):
    """A number per key of the default (items per instruction type)."""

    def build(self, changed):
        f = self.field
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.spins = {}
        for k, key in enumerate(f.default or {}):
            spin = QSpinBox(objectName=f"opt_{f.name}_{key}")
            spin.setRange(int(f.minimum or 0), int(f.maximum or 100))
            spin.valueChanged.connect(changed)
            grid.addWidget(QLabel(_choice_text(f, key)), k // 2, 2 * (k % 2))
            grid.addWidget(spin, k // 2, 2 * (k % 2) + 1)
            self.spins[key] = spin
        return box

    def get(self):
        return {key: spin.value() for key, spin in self.spins.items()}

    def set(self, value):
        for key, spin in self.spins.items():
            spin.setValue(int((value or {}).get(key, spin.value())))


EDITORS: dict[str, type[Editor]] = {
    "bool": BoolEditor, "int": IntEditor, "float": FloatEditor, "text": TextEditor,
    "choice": ChoiceEditor, "choices": ChoicesEditor, "counts": CountsEditor,
}  # fmt: skip


class OptionsPage(QWidget):
    """The form rows of one stage's options class."""

    changed = Signal()

    def __init__(self, options_cls, parent: QWidget | None = None):
        super().__init__(parent)
        self.options_cls = options_cls
        self.editors: dict[str, Editor] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for field in form_fields(options_cls):
            editor = EDITORS.get(field.kind, TextEditor)(field, lambda *_a: self.changed.emit())
            self.editors[field.name] = editor
            form.addRow(editor.row_label(), editor.widget)

    def values(self) -> dict:
        return {name: editor.get() for name, editor in self.editors.items()}

    def set(self, name: str, value) -> None:
        self.editors[name].set(value)
