"""The grid's model: the filter's id list (one query) plus rows fetched a page at a time.

rowCount is the full match count, so the scroll bar is true from the start; data() for a row
whose page is not cached costs one primary-key query of PAGE rows (about a millisecond at 100k
images). Pages are kept in a small LRU; thumbnails come from the ThumbnailLoader.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from core.store import browse
from core.store.browse import ImageQuery, ImageRow
from desktop.workers.tasks import TaskRunner
from desktop.workers.thumbnails import ThumbnailLoader

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # ImageRow
THUMB_ROLE = Qt.ItemDataRole.UserRole + 2  # QImage, or None while loading
ID_ROLE = Qt.ItemDataRole.UserRole + 3
MISSING = object()  # THUMB_ROLE value for an unreadable or absent thumbnail


class ImageListModel(QAbstractListModel):
    PAGE = 200
    PAGES_KEPT = 60

    queryApplied = Signal(object, int)  # ImageQuery, row count
    queryFailed = Signal(str)

    def __init__(self, project, loader: ThumbnailLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.loader = loader
        self.runner = TaskRunner(self, threads=1)
        self.query: ImageQuery | None = None
        self._ids = np.empty(0, dtype=np.int64)
        self._pages: OrderedDict[int, list[ImageRow | None]] = OrderedDict()
        self._row_of: dict[int, int] = {}  # image id -> row, for cached pages only
        self._generation = 0
        loader.loaded.connect(self._thumb_loaded)

    # query ---------------------------------------------------------------------------
    def set_query(self, query: ImageQuery, wait: bool = False) -> None:
        """Resolve `query` on a worker thread (or now, with `wait`) and reset to its ids."""
        self._generation += 1
        generation = self._generation
        db = self.project.db

        def apply(ids: np.ndarray) -> None:
            if generation == self._generation:
                self._reset(query, ids)

        def fail(exc: BaseException) -> None:
            if generation == self._generation:
                self.queryFailed.emit(str(exc))

        if wait:
            apply(browse.image_ids(db, query))
        else:
            self.runner.submit(lambda report: browse.image_ids(db, query), apply, fail)

    def refresh(self) -> None:
        """Run the current query again (after an import, say)."""
        if self.query is not None:
            self.set_query(self.query)

    def _reset(self, query: ImageQuery, ids: np.ndarray) -> None:
        self.beginResetModel()
        self.query = query
        self._ids = ids
        self._pages.clear()
        self._row_of.clear()
        self.endResetModel()
        self.queryApplied.emit(query, len(ids))

    # Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = index.row()
        if role == ID_ROLE:
            return int(self._ids[r])
        row = self.row(r)
        if row is None:
            return None
        if role == ROW_ROLE:
            return row
        if role == THUMB_ROLE:
            if not row.thumb:
                return MISSING
            image = self.loader.get(row.id)
            if image is None:
                if row.id in self.loader.failed:
                    return MISSING
                self.loader.request(row.id, str(self.project.root / row.thumb))
            return image
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{row.id}"
        if role == Qt.ItemDataRole.ToolTipRole:
            size = f"{row.width}×{row.height}" if row.width else "size unknown"
            return (
                f"Image {row.id} · {row.domain or 'no domain'} · {size}\n"
                f"status {row.status} · {row.n_items} instructions, {row.n_flagged} flagged"
            )
        return None

    # rows ----------------------------------------------------------------------------
    def row(self, r: int) -> ImageRow | None:
        if not 0 <= r < len(self._ids):
            return None
        page_no = r // self.PAGE
        page = self._pages.get(page_no)
        if page is None:
            page = self._load_page(page_no)
        else:
            self._pages.move_to_end(page_no)
        return page[r - page_no * self.PAGE]

    def _load_page(self, page_no: int) -> list[ImageRow | None]:
        start = page_no * self.PAGE
        ids = self._ids[start : start + self.PAGE].tolist()
        by_id = {row.id: row for row in browse.page_rows(self.project.db, ids)}
        page = [by_id.get(i) for i in ids]
        self._pages[page_no] = page
        self._row_of.update((i, start + k) for k, i in enumerate(ids))
        while len(self._pages) > self.PAGES_KEPT:
            old_no, old = self._pages.popitem(last=False)
            for row in old:
                if row is not None:
                    self._row_of.pop(row.id, None)
        return page

    def image_id(self, r: int) -> int | None:
        return int(self._ids[r]) if 0 <= r < len(self._ids) else None

    def row_of(self, image_id: int) -> int | None:
        r = self._row_of.get(image_id)
        if r is not None:
            return r
        hits = np.flatnonzero(self._ids == image_id)
        return int(hits[0]) if len(hits) else None

    def ids(self) -> np.ndarray:
        return self._ids

    def invalidate(self, image_ids) -> None:
        """Re-read these images' rows (after an edit) without moving anything."""
        for image_id in image_ids:
            r = self.row_of(image_id)
            if r is None:
                continue
            self._pages.pop(r // self.PAGE, None)
            index = self.index(r)
            self.dataChanged.emit(index, index)

    def _thumb_loaded(self, image_id) -> None:
        r = self._row_of.get(image_id)
        if r is not None:
            index = self.index(r)
            self.dataChanged.emit(index, index, [THUMB_ROLE])
