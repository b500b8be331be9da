"""The image's instructions as cards grouped by type, with a current card for the keyboard.

Cards are reused across images (re-filling one is several times cheaper than building it), and
redrawn in place after an edit so that a field being typed in keeps its text and focus.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.store.browse import Instruction
from desktop.strings import ITYPES, label, tr
from desktop.views.fields import FieldEdit
from desktop.views.instruction_card import InstructionCard


def grouped(items: list[Instruction]) -> list[Instruction]:
    order = {t: k for k, t in enumerate(ITYPES)}
    return sorted(items, key=lambda i: order.get(i.itype, len(order)))


class InstructionList(QWidget):
    edited = Signal(int, str, object)  # instruction id, field, value
    decided = Signal(int, str)  # instruction id, status
    escaped = Signal()  # Escape in one of the fields
    currentChanged = Signal(object)  # the current card (for scrolling it into view)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(6)
        self.cards: list[InstructionCard] = []
        self.current = -1

    def show_items(self, items: list[Instruction], quality: dict[int, dict] | None = None):
        """`quality`: the verifiers' answers per item id (core.store.review_info)."""
        quality = quality or {}
        ordered = grouped(items)
        if self.cards and [c.item.id for c in self.cards] == [i.id for i in ordered]:
            for card, item in zip(self.cards, ordered, strict=True):
                card.update_from(item, quality=quality.get(item.id))
            return
        keep = self.current_item_id()
        spare = self.clear(keep=True)
        itype = None
        for item in ordered:
            if item.itype != itype:
                itype = item.itype
                n = sum(1 for i in items if i.itype == itype)
                self.box.addWidget(QLabel(f"<b>{label('itype', itype)}</b> · {n}", self))
            reuse = spare.get(item.itype)
            if reuse:
                card = reuse.pop()
                card.rebind(item, quality.get(item.id))
            else:
                card = self._new_card(item, quality.get(item.id))
            self.box.addWidget(card)
            self.cards.append(card)
        for leftovers in spare.values():
            for card in leftovers:
                card.hide()
                card.deleteLater()
        if not items:
            self.box.addWidget(QLabel(f"<i>{tr('No instructions for this image yet.')}</i>", self))
        ids = [c.item.id for c in self.cards]
        self.set_current(ids.index(keep) if keep in ids else (0 if self.cards else -1))

    def clear(self, keep: bool = False) -> dict[str, list[InstructionCard]]:
        """Empty the list; with `keep`, return the cards by type for reuse (still visible,
        so that showing them again costs no re-polish)."""
        spare: dict[str, list[InstructionCard]] = {}
        while self.box.count():
            widget = self.box.takeAt(0).widget()
            if widget is None:
                continue
            if keep and isinstance(widget, InstructionCard):
                spare.setdefault(widget.item.itype, []).append(widget)
            else:
                widget.hide()
                widget.deleteLater()
        self.cards = []
        self.current = -1
        return spare

    def _new_card(self, item: Instruction, quality: dict | None = None) -> InstructionCard:
        card = InstructionCard(item, self, quality)
        card.edited.connect(self.edited)
        card.decided.connect(self.decided)
        card.focused.connect(self._focus_card)
        for edit in card.fields():
            edit.escaped.connect(self.escaped)
        return card

    # the current card ----------------------------------------------------------------
    def current_item_id(self) -> int | None:
        return self.cards[self.current].item.id if 0 <= self.current < len(self.cards) else None

    def set_current(self, k: int) -> None:
        for j, card in enumerate(self.cards):
            card.set_current(j == k)
        self.current = k
        if 0 <= k < len(self.cards):
            self.currentChanged.emit(self.cards[k])

    def step(self, delta: int) -> bool:
        if not self.cards:
            return False
        target = self.current + delta if self.current >= 0 else 0
        if not 0 <= target < len(self.cards):
            return False
        self.set_current(target)
        return True

    def _focus_card(self, instruction_id: int) -> None:
        ids = [c.item.id for c in self.cards]
        if instruction_id in ids and ids.index(instruction_id) != self.current:
            self.set_current(ids.index(instruction_id))

    def select_item(self, instruction_id: int) -> bool:
        ids = [c.item.id for c in self.cards]
        if instruction_id not in ids:
            return False
        self.set_current(ids.index(instruction_id))
        return True

    def begin_edit(self) -> bool:
        if 0 <= self.current < len(self.cards):
            self.cards[self.current].begin_edit()
            return True
        return False

    def edits_of(self, instruction_id: int, field: str) -> list[FieldEdit]:
        """The fields showing `field` (question, options, answer) of that instruction."""
        for card in self.cards:
            if card.item.id == instruction_id:
                return list(card.options) if field == "options" else [getattr(card, field)]
        return []

    def fields(self) -> list[FieldEdit]:
        return [f for c in self.cards for f in c.fields()]
