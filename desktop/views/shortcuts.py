"""The keyboard map: one registry that builds the window's actions and the shortcuts dialog."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop.strings import N_, tr


@dataclass(frozen=True)
class Shortcut:
    name: str  # the MainWindow handler is `on_<name>`
    text: str
    keys: tuple[str, ...]
    group: str


# Single letters work whenever no text field has focus (a text field takes its own typing);
# Alt/Ctrl variants work everywhere. Escape leaves a field without saving it.
SHORTCUTS: list[Shortcut] = [
    Shortcut("next_image", N_("Next image"), ("J", "Alt+Down"), N_("Navigate")),
    Shortcut("previous_image", N_("Previous image"), ("K", "Alt+Up"), N_("Navigate")),
    Shortcut("next_item", N_("Next instruction"), ("N", "Alt+Right"), N_("Navigate")),
    Shortcut("previous_item", N_("Previous instruction"), ("P", "Alt+Left"), N_("Navigate")),
    Shortcut(
        "review_next",
        N_("Review next: the riskiest undecided item"),
        ("Q", "Alt+Q"),
        N_("Navigate"),
    ),
    Shortcut("focus_search", N_("Search"), ("Ctrl+F",), N_("Navigate")),
    Shortcut("focus_grid", N_("Back to the grid"), ("Ctrl+G",), N_("Navigate")),
    Shortcut("accept_item", N_("Accept instruction, go to the next"), ("A", "Alt+A"), N_("Decide")),
    Shortcut("reject_item", N_("Reject instruction, go to the next"), ("R", "Alt+R"), N_("Decide")),
    Shortcut("fix_item", N_("Instruction needs fix, go to the next"), ("X", "Alt+X"), N_("Decide")),
    Shortcut(
        "accept_image",
        N_("Accept image (and its undecided items), next image"),
        ("Shift+A",),
        N_("Decide"),
    ),
    Shortcut(
        "reject_image",
        N_("Reject image (and its undecided items), next image"),
        ("Shift+R",),
        N_("Decide"),
    ),
    Shortcut("fix_image", N_("Image needs fix, next image"), ("Shift+X",), N_("Decide")),
    Shortcut(
        "edit",
        N_("Edit the instruction (its question; Tab for the next field)"),
        ("E", "F2"),
        N_("Edit"),
    ),
    Shortcut("edit_caption", N_("Edit the caption"), ("C",), N_("Edit")),
    Shortcut("commit", N_("Save the field being edited"), ("Ctrl+Return",), N_("Edit")),
    Shortcut("undo", N_("Undo"), ("Ctrl+Z",), N_("Edit")),
    Shortcut("redo", N_("Redo"), ("Ctrl+Shift+Z", "Ctrl+Y"), N_("Edit")),
    Shortcut("fit", N_("Fit image to view"), ("F",), N_("View")),
    Shortcut("zoom_in", N_("Zoom in"), ("+", "="), N_("View")),
    Shortcut("zoom_out", N_("Zoom out"), ("-",), N_("View")),
    Shortcut("actual_size", N_("Actual size"), ("1",), N_("View")),
    Shortcut("import_images", N_("Import images…"), ("Ctrl+I",), N_("Project")),
    Shortcut("export_data", N_("Export…"), ("Ctrl+E",), N_("Project")),
    Shortcut("show_shortcuts", N_("Keyboard shortcuts"), ("F1", "?"), N_("Help")),
]


def key_sequences(shortcut: Shortcut) -> list[QKeySequence]:
    return [QKeySequence(k) for k in shortcut.keys]


class ShortcutsDialog(QDialog):
    def __init__(self, parent=None, shortcuts: list[Shortcut] | None = None):
        super().__init__(parent)
        self.setWindowTitle(tr("Keyboard shortcuts"))
        shortcuts = shortcuts or SHORTCUTS
        table = QTableWidget(len(shortcuts), 3, self)
        table.setObjectName("shortcutsTable")
        table.setHorizontalHeaderLabels([tr("Group"), tr("Action"), tr("Keys")])
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, s in enumerate(shortcuts):
            keys = tr("   or   ").join(s.keys)
            for col, text in enumerate((tr(s.group), tr(s.text), keys)):
                cell = QTableWidgetItem(text)
                cell.setFlags(Qt.ItemFlag.ItemIsEnabled)
                table.setItem(row, col, cell)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(680, 40 + (len(shortcuts) + 2) * (table.fontMetrics().height() + 8))
