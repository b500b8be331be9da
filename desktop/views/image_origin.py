"""The review pane's line under the image header: the file's own name, how the image came to
the project (an imported file, or the collect source) and where from."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from core.store.review_info import ImageOrigin
from desktop.strings import tr


def origin_text(origin: ImageOrigin) -> str:
    how = tr("imported file") if origin.source == "file" else origin.source
    text = f"{origin.file_name} · {how}"
    if origin.location:
        text += f" · {origin.location}"
    if origin.other_paths:
        text += " · " + tr("also seen in {n} other place(s)", n=origin.other_paths)
    return text


class OriginLabel(QLabel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("imageOrigin")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet("color: #666")

    def show_origin(self, origin: ImageOrigin | None) -> None:
        self.setText(origin_text(origin) if origin is not None else "")
