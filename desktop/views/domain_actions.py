"""Domains edited from the sidebar (right-click): add, rename (its id and its title), delete.
core.domains owns the rules (names, uniqueness, what moves with a rename, the backup before a
delete); this asks for the values and refreshes the window."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QVBoxLayout,
)

from core import domains
from core.errors import StudioError
from core.store import browse
from desktop.panels import MenuAction, register_action
from desktop.strings import N_, domain_label, tr
from desktop.views.sidebar import ALL

KEEP = ""  # delete choice: keep the images, without a domain


class DomainDialog(QDialog):
    """Name and title for a new or renamed domain; for a delete, where its images go."""

    def __init__(self, parent, mode: str, name: str = "", title: str = "", others=(), n=0):
        super().__init__(parent)
        self.setObjectName(f"domainDialog_{mode}")
        self.mode, self.old = mode, name
        heading = {
            "add": tr("New domain"),
            "rename": tr("Rename domain {name}", name=name),
            "delete": tr("Delete domain {name}", name=name),
        }[mode]
        self.setWindowTitle(heading)
        form = QFormLayout()
        self.name = QLineEdit(name, objectName="domainName")
        self.name.setPlaceholderText(tr("snake_case id, e.g. street_food"))
        self.title = QLineEdit(title, objectName="domainTitle")
        self.target = QComboBox(objectName="domainTarget")
        if mode == "delete":
            form.addRow(QLabel(tr("Its seed questions and prompts go with it (a backup is "
                                  "taken first).")))  # fmt: skip
            if n:
                self.target.addItem(tr("Keep its {n:,} images, without a domain", n=n), KEEP)
                for other in others:
                    self.target.addItem(tr("Move its {n:,} images to {domain}", n=n,
                                           domain=other), other)  # fmt: skip
                form.addRow(tr("Images"), self.target)
        else:
            form.addRow(tr("Name"), self.name)
            form.addRow(tr("Title"), self.title)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok_text = {"add": tr("Add"), "rename": tr("Rename"), "delete": tr("Delete")}[mode]
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)


class DomainActions(QObject):
    message = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.db = window.project.db
        self.dialog: DomainDialog | None = None
        self.menu: QMenu | None = None
        lst = window.sidebar.list
        lst.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        lst.customContextMenuRequested.connect(self.show_menu)

    def build_menu(self, name: str | None) -> QMenu:
        menu = QMenu(self.window.sidebar)
        menu.setObjectName("domainMenu")
        menu.addAction(tr("New domain…"), self.ask_add).setObjectName("domainAdd")
        for key, text, slot in (
            ("domainRename", tr("Rename…"), self.ask_rename),
            ("domainDelete", tr("Delete…"), self.ask_delete),
        ):
            action = menu.addAction(text, lambda s=slot: s(name))
            action.setObjectName(key)
            action.setEnabled(bool(name))
        return menu

    def show_menu(self, pos: QPoint) -> None:
        item = self.window.sidebar.list.itemAt(pos)
        value = item.data(Qt.ItemDataRole.UserRole) if item else None
        name = value if isinstance(value, str) and value and value is not ALL else None
        self.menu = self.build_menu(name)
        self.menu.popup(self.window.sidebar.list.viewport().mapToGlobal(pos))

    # asking ------------------------------------------------------------------------------
    def _open(self, dialog: DomainDialog, done) -> DomainDialog:
        self.dialog = dialog
        dialog.accepted.connect(lambda: done(dialog))
        dialog.open()
        return dialog

    def ask_add(self) -> DomainDialog:
        return self._open(DomainDialog(self.window, "add"),
                          lambda d: self.add(d.name.text(), d.title.text()))  # fmt: skip

    def ask_rename(self, name: str) -> DomainDialog:
        row = domains.get_domain(self.db, name)
        dialog = DomainDialog(self.window, "rename", name, row.title or "")
        return self._open(dialog, lambda d: self.rename(name, d.name.text(), d.title.text()))

    def ask_delete(self, name: str) -> DomainDialog:
        entries = browse.domain_entries(self.db)
        n = next((count for d, _t, count in entries if d == name), 0)
        others = [d for d, _t, _c in entries if d and d != name]
        dialog = DomainDialog(self.window, "delete", name, others=others, n=n)
        return self._open(dialog, lambda d: self.delete(name, d.target.currentData()))

    # doing -------------------------------------------------------------------------------
    def _run(self, work) -> bool:
        try:
            work()
        except StudioError as exc:
            self.message.emit(str(exc))
            return False
        return True

    def add(self, name: str, title: str = "") -> bool:
        name = name.strip()
        ok = self._run(lambda: domains.add_domain(self.db, name, title=title.strip() or None))
        if ok:
            self.window.refresh_library()
            self.message.emit(tr("Domain {name} added", name=name))
        return ok

    def rename(self, old: str, new: str, title: str | None = None) -> bool:
        new = new.strip() or old

        def work() -> None:
            domains.rename_domain(self.db, old, new)
            if title is not None and title.strip():
                domains.update_domain(self.db, new, title=title)

        if not self._run(work):
            return False
        self._follow(old, new)
        self.message.emit(tr("Domain {old} is now {new}", old=old, new=new))
        return True

    def delete(self, name: str, reassign_to: str | None = KEEP) -> bool:
        target = reassign_to or None
        if not self._run(lambda: domains.delete_domain(self.db, name, force=target is None,
                                                       reassign_to=target)):  # fmt: skip
            return False
        self._follow(name, target)
        self.message.emit(tr("Domain {name} deleted", name=domain_label(name)))
        return True

    def _follow(self, old: str, new: str | None) -> None:
        """Images changed domain: the filter follows a renamed domain, the grid re-reads."""
        window = self.window
        if window.filters.query.domain == old:
            window.filters.update(domain=new)
        window.model.refresh()
        window.refresh_library()


def _new_domain(window) -> None:
    window.domain_actions.ask_add()


register_action(MenuAction("Edit", N_("New domain…"), _new_domain, order=30))
