"""Settings > Prompts: the project's prompt templates per domain, instruction type and language.

Shows the template a stage would use (core.pipeline.prompts.get_template: the project's
override for the domain, for every domain, the bundled domain variant, then the bundled one),
saves an override after validating its {slots}, and reverts one to what lies beneath it.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import StudioError
from desktop import strings
from desktop.strings import N_, domain_title, tr

SOURCES = {
    "project": N_("your override for every domain"),
    "resource": N_("bundled"),
}


def source_text(source: str) -> str:
    if source in SOURCES:
        return tr(SOURCES[source])
    kind, _, domain = source.partition(":")
    if kind == "project":
        return tr("your override for {domain}", domain=domain)
    return tr("bundled for {domain}", domain=domain)


class PromptsPage(QWidget):
    def __init__(self, project, parent: QWidget | None = None):
        super().__init__(parent)
        from core.domains import ITYPES, list_domains
        from core.pipeline.prompts import template_names

        self.db = project.db
        self.names = template_names()
        self.domain = QComboBox(objectName="promptDomain")
        self.domain.addItem(tr("Every domain"), "")
        for d in list_domains(self.db):
            self.domain.addItem(domain_title(d.name, d.title), d.name)
        self.itype = QComboBox(objectName="promptType")
        self.itype.addItem(tr("All templates"), None)
        for t in ITYPES:
            self.itype.addItem(strings.label("itype", t), t)
        self.lang = QComboBox(objectName="promptLang")
        self.lang.addItem(tr("English"), "en")
        self.lang.addItem(tr("Chinese"), "zh")
        self.template = QComboBox(objectName="promptName")
        self.source = QLabel(objectName="promptSource")
        self.slots = QLabel(objectName="promptSlots", wordWrap=True)
        self.text = QPlainTextEdit(objectName="promptText")
        self.save_button = QPushButton(tr("Save override"), objectName="savePrompt")
        self.revert_button = QPushButton(tr("Revert to the default"), objectName="revertPrompt")
        self.status = QLabel(objectName="promptStatus", wordWrap=True)

        form = QFormLayout()
        form.addRow(tr("Domain"), self.domain)
        form.addRow(tr("Instruction type"), self.itype)
        form.addRow(tr("Language"), self.lang)
        form.addRow(tr("Template"), self.template)
        form.addRow(tr("Now using"), self.source)
        form.addRow(tr("Slots"), self.slots)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.revert_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

        self.itype.currentIndexChanged.connect(self._fill_templates)
        for combo in (self.domain, self.lang, self.template):
            combo.currentIndexChanged.connect(self.show_template)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self._fill_templates()

    def _fill_templates(self) -> None:
        itype = self.itype.currentData()
        self.template.blockSignals(True)
        self.template.clear()
        for name in self.names:
            if itype is None or name.endswith(itype):
                self.template.addItem(name, name)
        self.template.blockSignals(False)
        self.show_template()

    def key(self) -> tuple[str, str, str]:
        return self.template.currentData(), self.lang.currentData(), self.domain.currentData()

    def show_template(self) -> None:
        from core.pipeline.prompts import get_template, slots

        name, lang, domain = self.key()
        if not name:
            self.text.clear()
            return
        try:
            t = get_template(self.db, name, lang, domain)
        except StudioError as exc:
            self.source.setText("—")
            self.text.setPlainText("")
            self.say(str(exc), False)
            return
        self.source.setText(source_text(t.source))
        allowed = sorted(slots(name) or ())
        self.slots.setText(", ".join("{" + s + "}" for s in allowed) or tr("none"))
        self.text.setPlainText(t.text)
        self.revert_button.setEnabled(t.source == ("project:" + domain if domain else "project"))
        self.status.clear()

    def save(self) -> bool:
        from core.pipeline.prompts import validate_template
        from core.store.prompt_overrides import set_prompt

        name, lang, domain = self.key()
        text = self.text.toPlainText()
        if not text.strip():
            self.say(tr("A template cannot be empty; use Revert to go back to the default."), False)
            return False
        try:
            validate_template(name, lang, text)
        except StudioError as exc:
            self.say(str(exc), False)
            return False
        set_prompt(self.db, name, lang, text.rstrip() + "\n", domain)
        self.show_template()
        where = tr("domain {domain}", domain=domain) if domain else tr("every domain")
        self.say(
            tr(
                "Saved {name} ({lang}) for {where}. Runs from now on use it.",
                name=name,
                lang=lang,
                where=where,
            ),
            True,
        )
        return True

    def revert(self) -> None:
        from core.store.prompt_overrides import delete_prompt

        name, lang, domain = self.key()
        if delete_prompt(self.db, name, lang, domain):
            self.show_template()
            self.say(
                tr(
                    "Reverted {name} ({lang}); now using {source}.",
                    name=name,
                    lang=lang,
                    source=self.source.text(),
                ),
                True,
            )

    def say(self, text: str, ok: bool) -> None:
        self.status.setStyleSheet("" if ok else "color: #c8463d;")
        self.status.setText(text)
