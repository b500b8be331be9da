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


@dataclass(frozen=True)
class Shortcut:
    name: str  # the MainWindow handler is `on_<name>`
    text: str
    keys: tuple[str, ...]
    group: str


# Single letters work whenever no text field has focus (a text field takes its own typing);
# Alt/Ctrl variants work everywhere. Escape leaves a field without saving it.
SHORTCUTS: list[Shortcut] = [
    Shortcut("next_image", "Next image", ("J", "Alt+Down"), "Navigate"),
    Shortcut("previous_image", "Previous image", ("K", "Alt+Up"), "Navigate"),
    Shortcut("next_item", "Next instruction", ("N", "Alt+Right"), "Navigate"),
    Shortcut("previous_item", "Previous instruction", ("P", "Alt+Left"), "Navigate"),
    Shortcut("focus_search", "Search", ("Ctrl+F",), "Navigate"),
    Shortcut("focus_grid", "Back to the grid", ("Ctrl+G",), "Navigate"),
    Shortcut("accept_item", "Accept instruction, go to the next", ("A", "Alt+A"), "Decide"),
    Shortcut("reject_item", "Reject instruction, go to the next", ("R", "Alt+R"), "Decide"),
    Shortcut("fix_item", "Instruction needs fix, go to the next", ("X", "Alt+X"), "Decide"),
    Shortcut(
        "accept_image", "Accept image (and its undecided items), next image", ("Shift+A",), "Decide"
    ),
    Shortcut(
        "reject_image", "Reject image (and its undecided items), next image", ("Shift+R",), "Decide"
    ),
    Shortcut("fix_image", "Image needs fix, next image", ("Shift+X",), "Decide"),
    Shortcut(
        "edit", "Edit the instruction (its question; Tab for the next field)", ("E", "F2"), "Edit"
    ),
    Shortcut("edit_caption", "Edit the caption", ("C",), "Edit"),
    Shortcut("commit", "Save the field being edited", ("Ctrl+Return",), "Edit"),
    Shortcut("undo", "Undo", ("Ctrl+Z",), "Edit"),
    Shortcut("redo", "Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Edit"),
    Shortcut("fit", "Fit image to view", ("F",), "View"),
    Shortcut("zoom_in", "Zoom in", ("+", "="), "View"),
    Shortcut("zoom_out", "Zoom out", ("-",), "View"),
    Shortcut("actual_size", "Actual size", ("1",), "View"),
    Shortcut("import_images", "Import images…", ("Ctrl+I",), "Project"),
    Shortcut("export_data", "Export…", ("Ctrl+E",), "Project"),
    Shortcut("show_shortcuts", "Keyboard shortcuts", ("F1", "?"), "Help"),
]


def key_sequences(shortcut: Shortcut) -> list[QKeySequence]:
    return [QKeySequence(k) for k in shortcut.keys]


class ShortcutsDialog(QDialog):
    def __init__(self, parent=None, shortcuts: list[Shortcut] | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        shortcuts = shortcuts or SHORTCUTS
        table = QTableWidget(len(shortcuts), 3, self)
        table.setObjectName("shortcutsTable")
        table.setHorizontalHeaderLabels(["Group", "Action", "Keys"])
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, s in enumerate(shortcuts):
            for col, text in enumerate((s.group, s.text, "   or   ".join(s.keys))):
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
