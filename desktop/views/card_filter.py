"""The review cards narrowed to the grid's filter: when the filter asks for items (a type, an
item status, a check flag, a verify disagreement, a text), the pane shows the image's items
that match it, says how many others it hides (one click shows them), and marks the searched
text in every field. core.store.item_table.grid_matches decides which items match."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QTextEdit, QWidget

from core.store.browse import ImageQuery, Instruction
from core.store.item_table import grid_matches
from desktop.strings import tr, trn

HIT_COLOR = "#ffe27a"


def mark(edit: QPlainTextEdit, needle: str) -> int:
    """Highlight every occurrence of `needle` (any case) in `edit`; returns how many."""
    selections = []
    if needle:
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(HIT_COLOR))
        doc = edit.document()
        cursor = doc.find(needle, 0)
        while not cursor.isNull():
            sel = QTextEdit.ExtraSelection()
            sel.cursor, sel.format = QTextCursor(cursor), fmt
            selections.append(sel)
            cursor = doc.find(needle, cursor)
    edit.setExtraSelections(selections)
    return len(selections)


class CardFilter(QWidget):
    showAll = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.query = ImageQuery()
        self.revealed: int | None = None  # the image whose hidden items the user asked for
        self.note = QLabel(self)
        self.note.setObjectName("cardFilterNote")
        self.button = QPushButton(tr("Show all"), self)
        self.button.setObjectName("cardFilterShowAll")
        self.button.clicked.connect(self._show_all)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note, 1)
        layout.addWidget(self.button)
        self.hide()

    def set_query(self, query: ImageQuery) -> None:
        self.query = query
        self.revealed = None

    def reveal(self, image_id: int) -> None:
        """Show every item of this image (an item outside the filter was asked for)."""
        self.revealed = image_id

    def _show_all(self) -> None:
        self.showAll.emit()

    def narrow(self, db, image_id: int, items: list[Instruction]) -> list[Instruction]:
        """The items to show as cards; sets the note about the others."""
        keep = None if self.revealed == image_id else grid_matches(db, image_id, self.query)
        shown = items if not keep else [i for i in items if i.id in set(keep)]
        hidden = len(items) - len(shown)
        self.note.setText(
            trn(
                "{n} item outside the filter is hidden",
                "{n} items outside the filter are hidden",
                hidden,
            )  # fmt: skip
        )
        self.setVisible(hidden > 0)
        return shown

    def needle(self) -> str:
        return self.query.text.strip()

    def mark_cards(self, cards) -> int:
        needle = self.needle()
        return sum(mark(edit, needle) for card in cards for edit in card.fields())
