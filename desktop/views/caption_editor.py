"""The image's caption: edit it (saving makes a new version) or bring back an earlier version."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.store.browse import CaptionVersion
from desktop.strings import tr
from desktop.views.fields import FieldEdit


class CaptionEditor(QWidget):
    saved = Signal(str)  # new caption text
    restore = Signal(int)  # caption id to make current

    def __init__(self, parent=None):
        super().__init__(parent)
        self.versions: list[CaptionVersion] = []
        head = QHBoxLayout()
        head.addWidget(QLabel(f"<b>{tr('Caption')}</b>", self))
        self.version_box = QComboBox(self)
        self.version_box.setObjectName("captionVersions")
        self.version_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.version_box.currentIndexChanged.connect(self._show_version)
        head.addWidget(self.version_box, 1)
        self.use_button = QPushButton(tr("Use this version"), self)
        self.use_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.use_button.clicked.connect(self._use_version)
        head.addWidget(self.use_button)
        self.text = FieldEdit("", self, min_lines=3)
        self.text.setObjectName("captionEdit")
        self.text.setPlaceholderText(tr("No caption yet — type one and press Ctrl+Enter"))
        self.text.committed.connect(self.saved.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.text)

    def set_versions(self, versions: list[CaptionVersion], keep_typing: bool = False) -> None:
        """Versions newest first (core.store.browse.caption_versions); shows the current one."""
        self.versions = versions
        self.version_box.blockSignals(True)
        self.version_box.clear()
        current_index = 0
        for k, v in enumerate(versions):
            who = v.model or v.origin or ""
            when = v.created_at.strftime("%Y-%m-%d %H:%M") if v.created_at else ""
            mark = tr("  ● current") if v.is_current else ""
            self.version_box.addItem(f"v{v.version} · {who} · {when}{mark}", v.id)
            if v.is_current:
                current_index = k
        if not versions:
            self.version_box.addItem(tr("no versions"), None)
        self.version_box.setCurrentIndex(current_index)
        self.version_box.blockSignals(False)
        self._show_version(current_index, keep_typing)

    def _selected(self) -> CaptionVersion | None:
        k = self.version_box.currentIndex()
        return self.versions[k] if 0 <= k < len(self.versions) else None

    def _show_version(self, _index: int, keep_typing: bool = False) -> None:
        v = self._selected()
        text = v.text if v else ""
        typing = self.text.is_dirty() and (self.text.hasFocus() or self.text.held)
        if keep_typing and self.text.toPlainText() == text:
            self.text.mark_saved(text)  # just saved from this field: the cursor stays
        elif not (keep_typing and typing):
            self.text.set_saved(text)
        self.use_button.setVisible(bool(v) and not v.is_current)

    def _use_version(self) -> None:
        v = self._selected()
        if v is not None and not v.is_current:
            self.restore.emit(v.id)
