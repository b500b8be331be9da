"""A strip of image tiles for the Curate tab: thumbnails from the window's loader, a caption
under each, optional check boxes, and keys of its own that win over the window's single-key
shortcuts while it has focus (the browse tab's J/K/A/R would otherwise fire here)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

TILE = 160
ID_ROLE = Qt.ItemDataRole.UserRole


class TileList(QListWidget):
    keyCommand = Signal(str)  # the text of a key this list claims (see `claim`)

    def __init__(self, thumbs, parent=None, checkable: bool = False, name: str | None = None):
        super().__init__(parent)
        if name:
            self.setObjectName(name)
        self.thumbs = thumbs
        self.checkable = checkable
        self.claimed: set[int] = set()
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(TILE, TILE))
        self.setGridSize(QSize(TILE + 28, TILE + 58))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._paths: dict[str, QListWidgetItem] = {}
        if thumbs is not None:
            thumbs.loaded.connect(self._loaded)

    def claim(self, keys: list[Qt.Key]) -> None:
        self.claimed |= {int(k) for k in keys}

    def event(self, e) -> bool:
        if (
            e.type() == QEvent.Type.ShortcutOverride
            and e.key() in self.claimed
            and not (e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)
        ):
            e.accept()  # delivered as a key press to this list, not to the window's shortcut
            return True
        return super().event(e)

    def keyPressEvent(self, e) -> None:
        if e.key() in self.claimed and not (e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            self.keyCommand.emit(e.text().upper() or str(e.key()))
            return
        super().keyPressEvent(e)

    def show_cards(self, cards: list[dict], caption: Callable[[dict], str], checked=False):
        """One tile per image card (core.collect.curate.cards), in order."""
        self.clear()
        self._paths = {}
        for card in cards:
            item = QListWidgetItem(caption(card))
            item.setData(ID_ROLE, card["id"] if "id" in card else card.get("path"))
            item.setToolTip(card.get("file") or card.get("path") or "")
            item.setSizeHint(QSize(TILE + 24, TILE + 54))
            if self.checkable:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.addItem(item)
            path = card.get("file") or card.get("path")
            if path and self.thumbs is not None:
                self._paths[path] = item
                image = self.thumbs.get(("curate", path))
                if image is not None:
                    item.setIcon(QIcon(QPixmap.fromImage(image)))
                else:
                    self.thumbs.request(("curate", path), path)
        if self.count():
            self.setCurrentRow(0)

    def _loaded(self, key) -> None:
        if not (isinstance(key, tuple) and key[:1] == ("curate",)):
            return
        item = self._paths.get(key[1])
        image = self.thumbs.get(key)
        if item is not None and image is not None:
            try:
                item.setIcon(QIcon(QPixmap.fromImage(image)))
            except RuntimeError:  # the tile was cleared meanwhile
                self._paths.pop(key[1], None)

    def keys(self) -> list:
        return [self.item(i).data(ID_ROLE) for i in range(self.count())]

    def checked(self) -> list:
        return [self.item(i).data(ID_ROLE) for i in range(self.count())
                if self.item(i).checkState() == Qt.CheckState.Checked]  # fmt: skip

    def set_all_checked(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for i in range(self.count()):
            self.item(i).setCheckState(state)

    def current_key(self):
        item = self.currentItem()
        return item.data(ID_ROLE) if item is not None else None
