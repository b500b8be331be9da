"""Review one image: the picture large, its caption and its instructions, decided by keyboard.

Every change goes through EditHistory (saved at once, undoable). The pane redraws in place when
an edit lands, so a field the user is typing in keeps its text and focus.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.store import browse, review, review_info
from desktop.models.edits import EditHistory
from desktop.strings import N_, STATUS_COLORS, domain_label, label, tr
from desktop.views.caption_editor import CaptionEditor
from desktop.views.card_filter import CardFilter
from desktop.views.image_origin import OriginLabel
from desktop.views.image_viewer import ImageViewer
from desktop.views.instruction_card import InstructionCard, chip
from desktop.views.instruction_list import InstructionList
from desktop.workers.tasks import TaskRunner
from desktop.workers.thumbnails import ThumbnailLoader, read_scaled

FULL_IMAGE_BOX = 4096  # decode larger pictures scaled to this, to bound memory
# The pane follows the grid after this pause: the grid paints first, and a held-down key
# builds the pane once, for the image it stops on (commands load a pending image at once).
PANE_DELAY_MS = 15
IMAGE_DECISIONS = [
    ("accepted", N_("Accept image")),
    ("rejected", N_("Reject image")),
    ("needs_fix", N_("Needs fix")),
]
FIELD_NAMES = {"question": N_("question"), "options": N_("options"), "answer": N_("answer")}


class ReviewPane(QWidget):
    imageDecided = Signal(int, str)  # image id, status
    message = Signal(str)
    leaveRefused = Signal()  # a field holds a refused value: the pane stays on its image
    editFinished = Signal()  # Escape in a field: the window gives focus back to the grid

    def __init__(self, project, history: EditHistory, thumbs: ThumbnailLoader, parent=None):
        super().__init__(parent)
        self.project = project
        self.history = history
        self.thumbs = thumbs
        self.loader = TaskRunner(self, threads=1)
        self.image_id: int | None = None
        self.detail: browse.ImageDetail | None = None
        self._generation = 0
        self._last_error = ""

        self.viewer = ImageViewer(self)
        self.viewer.setMinimumSize(QSize(200, 160))
        body = QWidget(self)
        self.body_layout = QVBoxLayout(body)
        self.body_layout.setContentsMargins(8, 6, 8, 6)
        self.info = QLabel(body)
        self.info.setObjectName("imageInfo")
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setWordWrap(True)
        self.body_layout.addWidget(self.info)
        self.origin = OriginLabel(body)  # the file's own name and where it came from
        self.body_layout.addWidget(self.origin)
        bar = QHBoxLayout()
        self.image_buttons: dict[str, QPushButton] = {}
        for status, text in IMAGE_DECISIONS:
            button = QPushButton(tr(text), body)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, s=status: self.decide_image(s))
            self.image_buttons[status] = button
            bar.addWidget(button)
        bar.addStretch(1)
        self.body_layout.addLayout(bar)
        self.error = QLabel(body)
        self.error.setObjectName("editError")
        self.error.setStyleSheet("color: #c8463d; font-weight: bold")
        self.error.setWordWrap(True)
        self.error.hide()
        self.body_layout.addWidget(self.error)
        self.caption = CaptionEditor(body)
        self.caption.saved.connect(self._save_caption)
        self.caption.restore.connect(self._restore_caption)
        self.caption.text.escaped.connect(self._escaped)
        self.body_layout.addWidget(self.caption)
        self.card_filter = CardFilter(body)
        self.card_filter.showAll.connect(self._reveal_all)
        self.body_layout.addWidget(self.card_filter)
        self.items = InstructionList(body)
        self.items.edited.connect(self._edit_item)
        self.items.decided.connect(self._decide_item)
        self.items.escaped.connect(self._escaped)
        self.items.currentChanged.connect(lambda card: self.scroll.ensureWidgetVisible(card, 0, 40))
        self.body_layout.addWidget(self.items)
        self.body_layout.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        # A narrow pane scrolls sideways rather than squeezing buttons out of sight.
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(body)

        self.split = QSplitter(Qt.Orientation.Vertical, self)
        self.split.addWidget(self.viewer)
        self.split.addWidget(self.scroll)
        self.split.setStretchFactor(0, 5)
        self.split.setStretchFactor(1, 6)
        self.split.setSizes([420, 480])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.split)

        self._pending_image: int | None = None
        self._closed = False
        self._load_timer = QTimer(self, singleShot=True, interval=PANE_DELAY_MS)
        self._load_timer.timeout.connect(self._load_pending)
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self.refresh)
        history.changed.connect(self._history_changed)
        history.failed.connect(self._show_error)
        self.set_image(None)

    # loading -------------------------------------------------------------------------
    def show_image_soon(self, image_id: int | None) -> None:
        """set_image after pending events: the grid repaints first, and holding a key down
        through many images builds the pane only for the one the key stops on."""
        self._pending_image = image_id
        self._load_timer.start()

    def _load_pending(self) -> None:
        self._load_timer.stop()
        if self._pending_image != self.image_id and not self._closed:
            self.set_image(self._pending_image)

    def shutdown(self) -> None:
        """Save the field being typed in; nothing loads after this (the project closes)."""
        self.commit_pending()
        self._closed = True
        self._load_timer.stop()
        self._refresh_timer.stop()
        self._generation += 1
        self.loader.wait()

    def busy(self) -> bool:
        """An image, a redraw or a picture is still on its way."""
        return self._load_timer.isActive() or self._refresh_timer.isActive() or self.loader.busy()

    def sync(self) -> None:
        """Load a pending image now: a key pressed right after "next image" acts on it."""
        self._load_pending()

    def set_image(self, image_id: int | None) -> None:
        if image_id != self.image_id and not self.can_leave():
            self._pending_image = self.image_id
            self.leaveRefused.emit()
            return
        self._pending_image = image_id
        self.image_id = image_id
        self.error.hide()
        self._generation += 1
        self.scroll.verticalScrollBar().setValue(0)  # a new image is read from its top
        self.scroll.horizontalScrollBar().setValue(0)
        self.origin.clear()
        if image_id is None:
            self.items.clear()
            self.detail = None
            self.viewer.clear(tr("No image selected"))
            self.info.setText(f"<i>{tr('Pick an image in the grid.')}</i>")
            self.caption.set_versions([])
            self._enable(False)
            return
        self._enable(True)
        self.detail = browse.image_detail(self.project.db, image_id)
        if self.detail is None:
            self.items.clear()
            self.viewer.clear(tr("This image is no longer in the project"))
            return
        self._load_picture(self.detail)
        self.refresh(keep_typing=False, detail=self.detail)
        # Read from the top: the new cards' layout lands after this event, and the current
        # card's scroll-into-view above used the old one.
        self.scroll.verticalScrollBar().setValue(0)
        QTimer.singleShot(0, lambda: self.scroll.verticalScrollBar().setValue(0))

    def _enable(self, on: bool) -> None:
        self.caption.setEnabled(on)
        for button in self.image_buttons.values():
            button.setEnabled(on)

    def _load_picture(self, d: browse.ImageDetail) -> None:
        self.viewer.source_size = QSize(d.width, d.height) if d.width and d.height else None
        thumb = self.thumbs.get(d.id)
        if thumb is not None:
            self.viewer.show_image(thumb, provisional=True)
        else:
            self.viewer.show_image(None, tr("Loading…"))
        path = self.project.resolve_media(d.storage, d.path)
        generation = self._generation

        def decode(_report):
            if generation != self._generation:  # the user has moved on: skip the work
                return None
            return read_scaled(str(path), FULL_IMAGE_BOX)

        def shown(image) -> None:
            if image is None or generation != self._generation:
                return
            if image.isNull():
                self.viewer.show_image(None, tr("Cannot read the image file:\n{path}", path=path))
            else:
                self.viewer.show_image(image)

        self.loader.submit(decode, shown)

    def refresh(self, keep_typing: bool = True, detail: browse.ImageDetail | None = None) -> None:
        """Re-read the shown image's rows; redraw cards in place when the set is unchanged
        (`keep_typing`: a field being typed in keeps its text, for redraws after an edit)."""
        if self.image_id is None or self._closed:
            return
        db = self.project.db
        self.detail = detail or browse.image_detail(db, self.image_id) or self.detail
        self._show_info()
        self.origin.show_origin(review_info.image_origin(db, self.image_id))
        self.caption.set_versions(browse.caption_versions(db, self.image_id), keep_typing)
        items = browse.instructions_for_image(db, self.image_id)
        shown = self.card_filter.narrow(db, self.image_id, items)
        self.items.show_items(shown, review_info.verifier_answers(db, [i.id for i in shown]))
        self.card_filter.mark_cards(self.cards)

    def _reveal_all(self) -> None:
        if self.image_id is not None:
            self.card_filter.reveal(self.image_id)
            self.refresh()

    def select_item(self, item_id: int) -> bool:
        """Make this item's card current (shown even when the filter would hide it)."""
        self.sync()
        if item_id not in [c.item.id for c in self.cards]:
            self._reveal_all()
        return self.items.select_item(item_id)

    def _show_info(self) -> None:
        d = self.detail
        size = f"{d.width}×{d.height}" if d.width else ""
        title = f" · {d.title}" if d.title else ""
        self.info.setText(
            f"<b>{tr('Image #{id}', id=d.id)}</b> · {domain_label(d.domain)} · {size} {d.format or ''}{title} "
            f"{chip(label('status', d.status), STATUS_COLORS.get(d.status, '#777'))}"
        )
        for status, button in self.image_buttons.items():
            button.setStyleSheet("font-weight: bold" if d.status == status else "")

    # items ---------------------------------------------------------------------------
    @property
    def cards(self) -> list[InstructionCard]:
        return self.items.cards

    def current_item_id(self) -> int | None:
        return self.items.current_item_id()

    def next_item(self, step: int = 1) -> bool:
        self.sync()
        return self.items.step(step)

    def decide_item(self, status: str) -> None:
        self.sync()
        iid = self.current_item_id()
        if iid is None:
            self.message.emit(tr("No instruction selected"))
            return
        if self._decide_item(iid, status):
            self.next_item(1)

    def _decide_item(self, iid: int, status: str) -> bool:
        return self.history.run(
            tr("{status}: item #{id}", status=label("status", status), id=iid),
            [self.image_id],
            lambda: review.set_instruction_status(self.project.db, [iid], status),
        )

    def decide_image(self, status: str) -> None:
        self.sync()
        if self.image_id is None or not self.can_leave():
            return
        image_id = self.image_id
        ok = self.history.run(
            tr("{status}: image #{id}", status=label("status", status), id=image_id),
            [image_id],
            lambda: review.set_image_status(self.project.db, image_id, status),
        )
        if ok:
            self.imageDecided.emit(image_id, status)

    def _edit_item(self, iid: int, field: str, value) -> None:
        ok = self.history.run(
            tr("Edit {field} of item #{id}", field=tr(FIELD_NAMES.get(field, field)), id=iid),
            [self.image_id],
            lambda: review.edit_instruction(self.project.db, iid, field, value),
        )
        for edit in self.items.edits_of(iid, field):
            if ok:  # saved: this text is the stored value now (an undo must replace it)
                edit.mark_saved(edit.toPlainText())
            else:
                edit.hold()
        if not ok:
            self._show_error(self._last_error)

    def _save_caption(self, text: str) -> None:
        image_id = self.image_id
        if image_id is None:
            return
        ok = self.history.run(
            tr("Edit caption of image #{id}", id=image_id),
            [image_id],
            lambda: review.save_caption(self.project.db, image_id, text),
        )
        if ok:
            self.caption.text.mark_saved(text)
        else:
            self.caption.text.hold()
            self._show_error(self._last_error)

    def _restore_caption(self, caption_id: int) -> None:
        image_id = self.image_id
        self.history.run(
            tr("Restore caption of image #{id}", id=image_id),
            [image_id],
            lambda: review.make_caption_current(self.project.db, image_id, caption_id),
        )

    def begin_edit(self) -> None:
        self.sync()
        if not self.items.begin_edit():
            self.caption.text.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def commit_pending(self) -> None:
        """Save whatever field is being typed in (before switching image, closing...)."""
        for edit in self._fields():
            edit.commit()  # a no-op unless its text differs from the saved value

    def _fields(self):
        return [self.caption.text, *self.items.fields()]

    def held_field(self):
        """The field whose value the store refused, still holding it; None when none."""
        return next((f for f in self._fields() if f.held and f.is_dirty()), None)

    def can_leave(self) -> bool:
        """Save what is typed; False (the reason shown, the cursor put back on the field)
        while a field holds a value the store refuses: leaving would lose it."""
        self.commit_pending()
        held = self.held_field()
        if held is None:
            return True
        self._show_error(self._last_error or tr("the value was refused"))
        QTimer.singleShot(0, lambda: held.isVisible() and held.setFocus())
        return False

    def refused_reason(self) -> str:
        return self._last_error

    def discard_held(self) -> None:
        """Give up every refused value (the user chose to close anyway)."""
        for edit in self._fields():
            if edit.held:
                edit.revert()
        self.error.hide()

    # signals -------------------------------------------------------------------------
    def _escaped(self) -> None:
        if self.held_field() is None:
            self.error.hide()  # the refused value was given up
        self.editFinished.emit()

    def _history_changed(self, images, _replay: bool) -> None:
        if self.image_id in images:
            if self.held_field() is None:
                self.error.hide()
            self._refresh_timer.start()  # after the current event: never inside a focus-out

    def _show_error(self, text: str) -> None:
        self._last_error = text
        shown = tr("Not saved: {error}", error=text)
        if self.held_field() is not None:
            shown += "\n" + tr("Fix the value or press Escape to give it up.")
        self.error.setText(shown)
        self.error.show()
        self.message.emit(tr("Not saved: {error}", error=text))
