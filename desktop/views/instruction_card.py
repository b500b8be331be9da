"""One instruction in the review pane: type, status, editable question/options/answer, the
check flags and the verify stage's answer beside it, and its accept/reject/needs-fix buttons."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
)

from core.store.browse import Instruction
from core.store.review_info import is_model_flag
from desktop.strings import ITYPE_COLORS, N_, STATUS_COLORS, label, tr
from desktop.views.fields import FieldEdit

LETTERS = "ABCD"
CURRENT_BORDER = "#2f7fd8"
DECISION_BUTTONS = [
    ("accepted", N_("✓ Accept"), "A"),
    ("rejected", N_("✗ Reject"), "R"),
    ("needs_fix", N_("⚑ Fix"), "X"),
]


def chip(text: str, color: str) -> str:
    return (
        f'<span style="background:{color}; color:white; padding:1px 6px;">&nbsp;'
        f"{html.escape(text)}&nbsp;</span>"
    )


class InstructionCard(QFrame):
    edited = Signal(int, str, object)  # instruction id, field, new value
    decided = Signal(int, str)  # instruction id, status
    focused = Signal(int)  # instruction id: the user clicked or typed into this card

    def __init__(self, item: Instruction, parent=None, quality: dict | None = None):
        super().__init__(parent)
        self.item = item
        self.quality = quality  # core.store.review_info.verifier_answers of this item
        self.setObjectName("instructionCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)

        head = QHBoxLayout()
        self.header = QLabel(self)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        head.addWidget(self.header, 1)
        self.buttons: dict[str, QToolButton] = {}
        for status, text, key in DECISION_BUTTONS:
            button = QToolButton(self)
            button.setText(tr(text))
            button.setToolTip(
                tr("Mark this item as {status} ({key})", status=label("status", status), key=key)
            )
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, s=status: self.decided.emit(self.item.id, s))
            self.buttons[status] = button
            head.addWidget(button)
        layout.addLayout(head)

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.question = self._field(grid, 0, tr("Q"), "question", item.question)
        self.options: list[FieldEdit] = []
        self.option_tags: list[QLabel] = []
        if item.itype == "multiple_choice":
            for k, letter in enumerate(LETTERS):
                value = (item.options or [""] * 4)[k] if item.options else ""
                edit = self._field(grid, 1 + k, letter, None, value)
                self.option_tags.append(self._last_tag)
                edit.committed.connect(lambda _t: self._options_committed())
                self.options.append(edit)
        lines = 6 if item.itype == "long_vqa" else 1
        self.answer = self._field(grid, 5, tr("Ans"), "answer", item.answer, min_lines=lines)
        layout.addLayout(grid)

        self.notes = QLabel(self)
        self.notes.setObjectName("notes")
        self.notes.setTextFormat(Qt.TextFormat.RichText)
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        self._current = False
        self.update_from(item, quality=quality)

    def _field(self, grid: QGridLayout, row: int, caption: str, field, text, min_lines=1):
        tag = QLabel(f"<b>{caption}</b>", self)
        tag.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        edit = FieldEdit(text, self, min_lines=min_lines)
        edit.setObjectName(f"{field or 'option'}Edit")
        if field:
            edit.committed.connect(lambda t, f=field: self.edited.emit(self.item.id, f, t))
        edit.installEventFilter(self)
        self._last_tag = tag
        grid.addWidget(tag, row, 0)
        grid.addWidget(edit, row, 1)
        return edit

    def _options_committed(self) -> None:
        self.edited.emit(self.item.id, "options", [e.toPlainText() for e in self.options])

    def eventFilter(self, obj, event) -> bool:
        if event.type() == event.Type.FocusIn:
            self.focused.emit(self.item.id)
        return False

    def fields(self) -> list[FieldEdit]:
        return [self.question, *self.options, self.answer]

    def rebind(self, item: Instruction, quality: dict | None = None) -> None:
        """Show another instruction of the same type (the review pane reuses cards)."""
        self.set_current(False)
        self.answer.min_lines = 6 if item.itype == "long_vqa" else 1
        self.update_from(item, force=True, quality=quality)

    def update_from(self, item: Instruction, force: bool = False, quality=None) -> None:
        """Show stored values; a field the user is typing in keeps its text (unless `force`:
        the card now shows another instruction)."""
        self.item = item
        self.quality = quality
        values = [item.question, *(item.options or [""] * len(self.options)), item.answer]
        for edit, value in zip(self.fields(), values, strict=True):
            value = value or ""
            if force:
                edit.set_saved(value)
            elif edit.toPlainText() == value:
                edit.mark_saved(value)  # just saved from this field: the cursor stays
            elif not (edit.is_dirty() and (edit.hasFocus() or edit.held)):
                # Not being typed in: show the store's value, also after an undo brought
                # back the value this field saved before (it must not be saved again).
                edit.set_saved(value)
        for letter, tag in zip(LETTERS, self.option_tags, strict=False):
            right = item.answer == letter  # the correct option, marked where the eye reads
            tag.setText(f"<b style='color:#3c9a5f'>{letter} ✓</b>" if right else f"<b>{letter}</b>")
        color = ITYPE_COLORS.get(item.itype, "#777")
        status_color = STATUS_COLORS.get(item.status, "#777")
        round_text = tr(" · round {n}", n=item.round) if item.round else ""
        origin = label("origin", item.origin)
        header = (
            f"{chip(label('itype', item.itype), color)} "
            f"<span style='color:#777'>#{item.id} · {item.lang} · {origin}{round_text}</span> "
            f"{chip(label('status', item.status), status_color)}"
        )
        if header != self.header.text():  # re-laying out rich text is the costly part
            self.header.setText(header)
        for status, button in self.buttons.items():
            button.setChecked(item.status == status)
        notes = self._notes(item, quality)
        if notes != self.notes.text():
            self.notes.setText(notes)
        self.notes.setVisible(bool(notes))

    @staticmethod
    def _notes(item: Instruction, quality: dict | None = None) -> str:
        lines = []
        messages = dict(zip(item.check_flags, item.check_messages, strict=False))
        for flag in item.check_flags:
            if is_model_flag(flag):
                continue  # the verifiers' line below says it, with their answers
            detail = messages.get(flag, "").removeprefix(f"{flag}:").strip()
            lines.append(
                f"<span style='color:#c8463d'>⚠ <b>{html.escape(flag)}</b> "
                f"{html.escape(detail)}</span>"
            )
        verifiers = verifier_line(item, quality or {})
        if verifiers:
            lines.append(verifiers)
        return "<br>".join(lines)

    def set_current(self, current: bool) -> None:
        # A painted border, not a style sheet: re-polishing a card costs ~0.5 ms per call.
        if current != self._current:
            self._current = current
            self.update()

    def is_current(self) -> bool:
        return self._current

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self._current:
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(CURRENT_BORDER), 2))
            painter.drawRoundedRect(self.rect().adjusted(1, 1, -1, -1), 5, 5)

    def begin_edit(self) -> None:
        self.question.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.question.selectAll()


def _said(answer) -> str:
    return f"<b>{html.escape(str(answer) if answer is not None else '?')}</b>"


def verifier_line(item: Instruction, q: dict) -> str:
    """Every verifier's answer on one line: the image verifier, the caption verifier, the blind
    trial and the risk score; orange when one of them disagrees with the stored answer."""
    parts, doubt = [], False
    image_agree = q.get("image_agree", item.verify_agree)
    if image_agree is not None:
        doubt |= not image_agree
        answer = q.get("image_answer", item.verify_answer)
        parts.append(tr("image ✓") if image_agree else tr("image ≠ {answer}", answer=_said(answer)))
    if q.get("caption_untellable"):
        doubt = True
        parts.append(tr("caption: cannot tell"))
    elif q.get("caption_agree") is not None:
        doubt |= not q["caption_agree"]
        parts.append(
            tr("caption ✓")
            if q["caption_agree"]
            else tr("caption ≠ {answer}", answer=_said(q.get("caption_answer")))
        )
    if "answerable_blind" in item.check_flags:
        doubt = True
        parts.append(tr("answered without the image"))
    if not parts:
        return ""
    if q.get("risk") is not None:
        parts.append(tr("risk {risk:.2f}", risk=q["risk"]))
    color = "#d97a00" if doubt else "#3c9a5f"
    return f"<span style='color:{color}'>{tr('Verifiers:')} {' · '.join(parts)}</span>"
