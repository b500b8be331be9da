"""Settings > Seed questions: the example questions the generate stage samples, per domain,
instruction type and language; list, add, edit and delete through core.domains."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import StudioError
from desktop import strings
from desktop.strings import N_, domain_title, tr


class SeedsPage(QWidget):
    def __init__(self, project, parent: QWidget | None = None):
        super().__init__(parent)
        from core.domains import ITYPES, list_domains

        self.db = project.db
        self.domain = QComboBox(objectName="seedDomain")
        for d in list_domains(self.db):
            self.domain.addItem(domain_title(d.name, d.title), d.name)
        self.itype = QComboBox(objectName="seedType")
        for t in ITYPES:
            self.itype.addItem(strings.label("itype", t), t)
        self.lang = QComboBox(objectName="seedLang")
        self.lang.addItem(tr("English"), "en")
        self.lang.addItem(tr("Chinese"), "zh")
        self.list = QListWidget(objectName="seedList")
        self.list.setWordWrap(True)
        self.text = QPlainTextEdit(objectName="seedText")
        self.text.setPlaceholderText(tr("A seed question, e.g. “What is written on the sign?”"))
        self.text.setMaximumHeight(90)
        self.add_button = QPushButton(tr("Add as new"), objectName="addSeed")
        self.save_button = QPushButton(tr("Save changes"), objectName="saveSeed")
        self.delete_button = QPushButton(tr("Delete"), objectName="deleteSeed")
        self.count = QLabel(objectName="seedCount")
        self.status = QLabel(objectName="seedStatus", wordWrap=True)

        pick = QHBoxLayout()
        for label, combo in (
            (N_("Domain"), self.domain),
            (N_("Type"), self.itype),
            (N_("Language"), self.lang),
        ):
            pick.addWidget(QLabel(tr(label)))
            pick.addWidget(combo, 1)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.save_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

        for combo in (self.domain, self.itype, self.lang):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.list.currentItemChanged.connect(self._picked)
        self.add_button.clicked.connect(self.add)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.reload()

    def key(self) -> tuple[str, str, str]:
        return self.domain.currentData(), self.itype.currentData(), self.lang.currentData()

    def reload(self, select: int | None = None) -> None:
        from core.domains import list_seeds

        domain, itype, lang = self.key()
        self.list.blockSignals(True)
        self.list.clear()
        seeds = list_seeds(self.db, domain, itype, lang) if domain else []
        for seed in seeds:
            item = QListWidgetItem(seed.text)
            item.setData(Qt.ItemDataRole.UserRole, seed.id)
            item.setToolTip(f"#{seed.id} · {seed.source or tr('user')}")
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.count.setText(tr("{n} seed(s)", n=len(seeds)))
        ids = [s.id for s in seeds]
        if select in ids:
            self.list.setCurrentRow(ids.index(select))
        else:
            self.text.clear()
            self._picked(None)

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _picked(self, item, _previous=None) -> None:
        self.save_button.setEnabled(item is not None)
        self.delete_button.setEnabled(item is not None)
        if item is not None:
            self.text.setPlainText(item.text())

    def add(self) -> None:
        from core.domains import add_seed

        domain, itype, lang = self.key()
        self._do(
            lambda: add_seed(self.db, domain, itype, lang, self.text.toPlainText()),
            tr("Added seed #{id}."),
        )

    def save(self) -> None:
        from core.domains import edit_seed

        seed_id = self.selected_id()
        if seed_id is not None:
            self._do(
                lambda: edit_seed(self.db, seed_id, text=self.text.toPlainText()),
                tr("Saved seed #{id}."),
            )

    def delete(self) -> None:
        from core.domains import delete_seed

        seed_id = self.selected_id()
        if seed_id is None:
            return
        try:
            delete_seed(self.db, seed_id)
        except StudioError as exc:
            self.say(str(exc), False)
            return
        self.reload()
        self.say(tr("Deleted seed #{id}.", id=seed_id), True)

    def _do(self, change, done: str) -> None:
        """`done`: the message once it worked, with {id} for the seed's id."""
        try:
            seed = change()
        except StudioError as exc:  # empty, duplicate, unknown domain: said, nothing changed
            self.say(str(exc), False)
            return
        self.reload(select=seed.id)
        self.say(done.format(id=seed.id), True)

    def say(self, text: str, ok: bool) -> None:
        self.status.setStyleSheet("" if ok else "color: #c8463d;")
        self.status.setText(text)
