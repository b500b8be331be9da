"""An inline text field that commits on focus-out or Ctrl+Enter and reverts on Escape.

A value the store refused is held (shown with a red frame, not reverted): the review pane keeps
the user on it until it is fixed or given up with Escape, so nothing typed vanishes unseen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QSizePolicy


class FieldEdit(QPlainTextEdit):
    committed = Signal(str)  # the new text; only when it differs from the saved value
    escaped = Signal()

    def __init__(self, text: str = "", parent=None, min_lines: int = 1, max_lines: int = 12):
        super().__init__(parent)
        self.min_lines, self.max_lines = min_lines, max_lines
        self.setTabChangesFocus(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().documentLayout().documentSizeChanged.connect(lambda _s: self._fit_height())
        self.held = False  # the text is a value the store refused, kept for the user to fix
        self.set_saved(text)

    def set_saved(self, text: str) -> None:
        """Show `text` as the stored value (no commit)."""
        self._saved = text or ""
        self._hold(False)
        self.setPlainText(self._saved)
        self._fit_height()

    def mark_saved(self, text: str) -> None:
        """The store now holds `text`, which is what the field shows: keep cursor and text."""
        self._saved = text or ""
        self._hold(False)

    def hold(self) -> None:
        """The store refused the text: keep it, framed in red, until fixed or reverted."""
        self._hold(self.is_dirty())

    def _hold(self, held: bool) -> None:
        if held != self.held:
            self.held = held
            # A style sheet only while held: re-polishing every field would cost on each image.
            self.setStyleSheet("QPlainTextEdit { border: 2px solid #c8463d; }" if held else "")

    def saved(self) -> str:
        return self._saved

    def is_dirty(self) -> bool:
        return self.toPlainText() != self._saved

    def commit(self) -> None:
        if self.is_dirty():
            self.committed.emit(self.toPlainText())

    def revert(self) -> None:
        self._hold(False)
        self.setPlainText(self._saved)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.commit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.revert()
            self.escaped.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.commit()

    def _fit_height(self) -> None:
        lines = max(self.min_lines, min(self.max_lines, int(self.document().size().height())))
        margins = self.contentsMargins()
        doc_margin = self.document().documentMargin()
        height = lines * self.fontMetrics().lineSpacing() + 2 * doc_margin
        self.setFixedHeight(int(height + margins.top() + margins.bottom()) + 2)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()
