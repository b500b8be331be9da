"""Filters above the grid: statuses, instruction type, check flag, caption, text search, sort."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from core.store.browse import ANY_FLAG, SORTS
from core.store.review import IMAGE_STATUSES, INSTRUCTION_STATUSES
from desktop.strings import ITYPES, N_, label, tr

DISAGREE = "__verify_disagrees__"  # pseudo check flag: the verify stage answered differently
ANY = [(N_("Any"), None)]
# The words of core.store.browse.SORTS, by key (core speaks English only).
SORT_LABELS = {
    "imported": N_("Import order"),
    "newest": N_("Newest first"),
    "domain": N_("Domain"),
    "status": N_("Image status"),
    "flags": N_("Most check flags"),
    "items": N_("Most instructions"),
}


def _flag_changes(value) -> dict:
    disagree = value == DISAGREE
    return {"check_flag": None if disagree else value, "disagree": disagree}


class FilterBar(QWidget):
    changed = Signal(dict)  # ImageQuery field -> value

    SEARCH_DELAY_MS = 250

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self._to_changes: dict[QComboBox, Callable[[object], dict]] = {}
        statuses = [(label("status", s), s) for s in IMAGE_STATUSES]
        item_statuses = [(label("status", s), s) for s in INSTRUCTION_STATUSES]
        self.status = self._combo(
            layout, "Image", tr("Image"), ANY + statuses, lambda v: {"status": v}
        )
        self.itype = self._combo(
            layout,
            "Type",
            tr("Type"),
            ANY + [(v, k) for k, v in ITYPES.items()],
            lambda v: {"itype": v},
        )
        self.item_status = self._combo(
            layout, "Item", tr("Item"), ANY + item_statuses, lambda v: {"item_status": v}
        )
        self.flag = self._combo(layout, "Check", tr("Check"), [], _flag_changes)
        self.caption = self._combo(
            layout,
            "Caption",
            tr("Caption"),
            ANY + [(N_("With caption"), True), (N_("Without"), False)],
            lambda v: {"has_caption": v},
        )
        sorts = [(SORT_LABELS.get(key, s.label), key) for key, s in SORTS.items()]
        self.sort = self._combo(layout, "Sort", tr("Sort"), sorts, lambda v: {"sort": v})
        self.set_flags([])
        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText(tr("Search captions, questions, answers  (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(160)
        layout.addWidget(self.search, 1)
        self._debounce = QTimer(self, singleShot=True, interval=self.SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self._emit_text)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._emit_text)

    def _combo(self, layout, name: str, title: str, entries, to_changes) -> QComboBox:
        """`entries`: (English text, value); the text is translated here."""
        combo = QComboBox(self)
        combo.setObjectName(f"filter{name}")
        combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for text, value in entries:
            combo.addItem(tr(text), value)
        self._to_changes[combo] = to_changes
        combo.currentIndexChanged.connect(
            lambda _i, c=combo: self.changed.emit(self._to_changes[c](c.currentData()))
        )
        layout.addWidget(QLabel(title, self))
        layout.addWidget(combo)
        return combo

    def set_flags(self, flags: list[str]) -> None:
        """Offer the check flags present in the project (core.store.browse.check_flag_names)."""
        keep = self.flag.currentData()
        self.flag.blockSignals(True)
        self.flag.clear()
        fixed = ANY + [(N_("Any failed check"), ANY_FLAG), (N_("Verify disagrees"), DISAGREE)]
        for text, value in [(tr(t), v) for t, v in fixed] + [(f, f) for f in flags]:
            self.flag.addItem(text, value)
        self.flag.setCurrentIndex(max(self.flag.findData(keep), 0))
        self.flag.blockSignals(False)

    def _emit_text(self) -> None:
        self._debounce.stop()
        self.changed.emit({"text": self.search.text()})
