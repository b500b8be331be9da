"""Add an instruction by hand to an image (origin `manual`, accepted): the dialog stays open
with the reason when the store refuses a value (core.store.item_writes.add_instruction)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from core import itypes
from core.errors import StudioError
from core.store.item_writes import add_instruction
from core.vocab import LANGS
from desktop.strings import ITYPES, label, tr

LETTERS = "ABCD"


class AddItemDialog(QDialog):
    added = Signal(int)  # the new item's id

    def __init__(self, project, image_id: int, parent=None):
        super().__init__(parent)
        self.project, self.image_id = project, image_id
        self.setWindowTitle(tr("Add an instruction to image #{id}", id=image_id))
        form = QFormLayout()
        self.itype = QComboBox(self, objectName="addType")
        for name in ITYPES:
            self.itype.addItem(label("itype", name), name)
        self.lang = QComboBox(self, objectName="addLang")
        for lang in LANGS:
            self.lang.addItem(lang, lang)
        self.question = QPlainTextEdit(self, objectName="addQuestion")
        self.question.setTabChangesFocus(True)
        self.question.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 14)
        self.options = [QLineEdit(self, objectName=f"addOption{x}") for x in LETTERS]
        self.answer = QPlainTextEdit(self, objectName="addAnswer")
        self.answer.setTabChangesFocus(True)
        self.answer.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 14)
        form.addRow(tr("Type"), self.itype)
        form.addRow(tr("Language"), self.lang)
        form.addRow(tr("Question"), self.question)
        self.option_labels = []
        for letter, edit in zip(LETTERS, self.options, strict=True):
            tag = QLabel(letter, self)
            self.option_labels.append(tag)
            form.addRow(tag, edit)
        form.addRow(tr("Answer"), self.answer)
        self.error = QLabel(self, objectName="addError")
        self.error.setStyleSheet("color: #c8463d; font-weight: bold")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Add"))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.itype.currentIndexChanged.connect(self._type_changed)
        self._type_changed()
        self.resize(560, 420)

    def _type_changed(self) -> None:
        has = itypes.get(self.itype.currentData()).has_options
        for widget in [*self.options, *self.option_labels]:
            widget.setVisible(has)

    def save(self) -> None:
        itype = self.itype.currentData()
        options = [e.text() for e in self.options] if itypes.get(itype).has_options else None
        try:
            new_id = add_instruction(
                self.project.db, self.image_id, itype, self.lang.currentData(),
                self.question.toPlainText(), self.answer.toPlainText(), options,
            )  # fmt: skip
        except StudioError as exc:
            self.error.setText(tr("Not added: {error}", error=exc))
            self.error.show()
            return
        self.added.emit(new_id)
        self.accept()
