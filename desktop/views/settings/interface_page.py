"""Settings > Interface: the UI language and the Jobs tab's cost confirmation threshold, kept
in the user's desktop.yaml."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import StudioError
from desktop.models.ui_settings import LANGUAGES, load_ui_settings, save_ui_settings
from desktop.strings import tr


class InterfacePage(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.language = QComboBox(objectName="uiLanguage")
        for code, title in LANGUAGES.items():
            self.language.addItem(title, code)
        self.confirm_cost = QDoubleSpinBox(objectName="uiConfirmCost")
        self.confirm_cost.setRange(0, 100_000)
        self.confirm_cost.setDecimals(2)
        self.confirm_cost.setPrefix("$ ")
        self.confirm_cost.setToolTip(
            tr("The Jobs tab asks before it starts a run estimated to cost more than this")
        )
        self.save_button = QPushButton(tr("Save"), objectName="saveInterface")
        self.status = QLabel(objectName="interfaceStatus", wordWrap=True)
        note = QLabel(
            tr(
                "The language of menus, labels and messages. A change applies the next time "
                "the studio starts. Messages that come from the engine itself (model and "
                "file errors) stay in English. The language of generated data is chosen per "
                "job (Jobs > Stage)."
            )
        )
        note.setObjectName("interfaceNote")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("Interface language"), self.language)
        form.addRow(tr("Ask before runs costing more than"), self.confirm_cost)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.save_button)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.save_button.clicked.connect(self.save)
        current = load_ui_settings()
        self.language.setCurrentIndex(max(0, self.language.findData(current["language"])))
        self.confirm_cost.setValue(float(current["confirm_cost_usd"]))

    def save(self) -> bool:
        try:
            saved = save_ui_settings(
                language=self.language.currentData(), confirm_cost_usd=self.confirm_cost.value()
            )
        except StudioError as exc:
            self.status.setText(str(exc))
            return False
        self.status.setText(
            tr(
                "Saved: {language}. It applies the next time the studio starts.",
                language=LANGUAGES[saved["language"]],
            )
        )
        return True
