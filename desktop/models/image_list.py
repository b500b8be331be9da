"""The grid's model: the filter's id list (one query) plus rows fetched a page at a time.

rowCount is the full match count, so the scroll bar is true from the start. Row pages are read
on a worker thread: data() for a row whose page is not cached returns nothing (the delegate
paints a placeholder), asks for the page, and dataChanged follows when it lands. The first page
comes with the id list, so a new filter paints real rows at once. Pages live in a small LRU;
thumbnails come from the ThumbnailLoader.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from core.store import browse
from core.store.browse import ImageQuery, ImageRow
from desktop.strings import domain_label, label, tr
from desktop.workers.tasks import TaskRunner
from desktop.workers.thumbnails import ThumbnailLoader

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # ImageRow, or None while its page loads
THUMB_ROLE = Qt.ItemDataRole.UserRole + 2  # QImage, None while loading, or MISSING
ID_ROLE = Qt.ItemDataRole.UserRole + 3
MISSING = object()  # THUMB_ROLE value for an unreadable or absent thumbnail
Page = list  # list[ImageRow | None], aligned with the ids of the page


def _read_page(db, ids: list[int]) -> Page:
    by_id = {row.id: row for row in browse.page_rows(db, ids)}
    return [by_id.get(i) for i in ids]


class ImageListModel(QAbstractListModel):
    PAGE = 200
    PAGES_KEPT = 60

    queryApplied = Signal(object, int)  # ImageQuery, row count
    queryFailed = Signal(str)
    rowsMerged = Signal(int)  # reapply() moved rows in or out: the new row count

    def __init__(self, project, loader: ThumbnailLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.loader = loader
        self.runner = TaskRunner(self, threads=1)  # filter queries
        self.pager = TaskRunner(self, threads=1)  # row pages
        self.query: ImageQuery | None = None
        self._ids = np.empty(0, dtype=np.int64)
        self._pages: OrderedDict[int, Page] = OrderedDict()
        self._loading: set[int] = set()
        self._row_of: dict[int, int] = {}  # image id -> row, for rows seen in pages
        self._generation = 0
        self._epoch = 0  # bumped when rows move: a page read before then is stale
        self._merging = False
        self._closed = False
        loader.loaded.connect(self._thumb_loaded)

    # query ---------------------------------------------------------------------------
    def set_query(self, query: ImageQuery, wait: bool = False) -> None:
        """Resolve `query` on a worker thread (or now, with `wait`) and reset to its ids."""
        if self._closed:
            return
        self._generation += 1
        generation = self._generation
        db, size = self.project.db, self.PAGE

        def resolve(_report=None):
            ids = browse.image_ids(db, query)
            return ids, _read_page(db, ids[:size].tolist())

        def apply(result) -> None:
            if generation == self._generation:
                self._reset(query, *result)

        def fail(exc: BaseException) -> None:
            if generation == self._generation:
                self.queryFailed.emit(str(exc))

        if wait:
            apply(resolve())
        else:
            self.runner.submit(resolve, apply, fail)

    def refresh(self) -> None:
        """Run the current query again (after an import, say)."""
        if self.query is not None:
            self.set_query(self.query)

    def _reset(self, query: ImageQuery, ids: np.ndarray, first: Page) -> None:
        self.beginResetModel()
        self.query = query
        self._ids = ids
        self._pages.clear()
        self._loading.clear()
        self._row_of.clear()
        self._generation += 1  # pages still loading belong to the old list
        if len(ids):
            self._store(0, first)
        self.endResetModel()
        self.queryApplied.emit(query, len(ids))

    # Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if not index.isValid():
            return None
        r = index.row()
        if role == ID_ROLE:
            return int(self._ids[r])
        row = self.cached_row(r)
        if row is None:
            return None
        if role == ROW_ROLE:
            return row
        if role == THUMB_ROLE:
            if not row.thumb or row.id in self.loader.failed:
                return MISSING
            image = self.loader.get(row.id)
            if image is None:
                self.loader.request(row.id, str(self.project.root / row.thumb))
            return image
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{row.id}"
        if role == Qt.ItemDataRole.ToolTipRole:
            size = f"{row.width}×{row.height}" if row.width else tr("size unknown")
            return tr(
                "Image {id} · {domain} · {size}\nstatus {status} · {items} instructions, "
                "{flagged} flagged, {disagree} verify disagreements",
                id=row.id,
                domain=domain_label(row.domain),
                size=size,
                status=label("status", row.status),
                items=row.n_items,
                flagged=row.n_flagged,
                disagree=row.n_disagree,
            )
        return None

    # rows ----------------------------------------------------------------------------
    def cached_row(self, r: int) -> ImageRow | None:
        """The row if its page is here; otherwise None, and the page is fetched off-thread."""
        if not 0 <= r < len(self._ids):
            return None
        page_no = r // self.PAGE
        page = self._pages.get(page_no)
        if page is None and (self._closed or self._merging):
            return None
        if page is None:
            self._request(page_no)
            self._request(page_no + 1)  # scrolling on is the likely next move
            return None
        self._pages.move_to_end(page_no)
        return page[r - page_no * self.PAGE]

    def row(self, r: int) -> ImageRow | None:
        """The row, read now if its page is not cached (for code that needs it at once)."""
        if not 0 <= r < len(self._ids):
            return None
        page_no = r // self.PAGE
        if page_no not in self._pages:
            self._store(page_no, _read_page(self.project.db, self._page_ids(page_no)))
        return self.cached_row(r)

    def _page_ids(self, page_no: int) -> list[int]:
        start = page_no * self.PAGE
        return self._ids[start : start + self.PAGE].tolist()

    def _request(self, page_no: int) -> None:
        if page_no in self._pages or page_no in self._loading:
            return
        ids = self._page_ids(page_no)
        if not ids:
            return
        self._loading.add(page_no)
        generation, epoch, db = self._generation, self._epoch, self.project.db

        def landed(page: Page) -> None:
            if generation != self._generation or epoch != self._epoch:
                return
            self._loading.discard(page_no)
            self._store(page_no, page)
            first = page_no * self.PAGE
            self.dataChanged.emit(self.index(first), self.index(first + len(page) - 1))

        def failed(exc: BaseException) -> None:
            self._loading.discard(page_no)
            self.queryFailed.emit(str(exc))

        self.pager.submit(lambda _report: _read_page(db, ids), landed, failed)

    def _store(self, page_no: int, page: Page) -> None:
        self._pages[page_no] = page
        self._pages.move_to_end(page_no)
        start = page_no * self.PAGE
        self._row_of.update((row.id, start + k) for k, row in enumerate(page) if row is not None)
        while len(self._pages) > self.PAGES_KEPT:
            self._pages.popitem(last=False)

    def image_id(self, r: int) -> int | None:
        return int(self._ids[r]) if 0 <= r < len(self._ids) else None

    def row_of(self, image_id: int) -> int | None:
        r = self._row_of.get(image_id)
        if r is not None:
            return r
        hits = np.flatnonzero(self._ids == image_id)
        return int(hits[0]) if len(hits) else None

    def first_row_of(self, image_ids) -> int | None:
        """The first row showing one of `image_ids` (one pass over the id list)."""
        wanted = np.fromiter((int(i) for i in image_ids), dtype=np.int64)
        hits = np.flatnonzero(np.isin(self._ids, wanted))
        return int(hits[0]) if len(hits) else None

    def ids(self) -> np.ndarray:
        return self._ids

    def shutdown(self) -> None:
        """No more reads: the project is about to close."""
        self._closed = True
        self._generation += 1
        self.runner.wait()
        self.pager.wait()

    def busy(self) -> bool:
        return self.runner.busy() or self.pager.busy()

    def invalidate(self, image_ids) -> None:
        """Re-read these images' rows (after an edit) on the pager thread; nothing moves."""
        # Only rows in cached pages can be stale; the others are read fresh when shown. A
        # set lookup per id keeps a bulk edit of 100k images cheap here.
        ids = [i for i in image_ids if i in self._row_of]
        if not ids or self._closed:
            return
        generation, db = self._generation, self.project.db

        def landed(rows: list[ImageRow]) -> None:
            if generation == self._generation:
                self._update_rows(rows)

        self.pager.submit(lambda _report: browse.page_rows(db, ids), landed)

    def reapply(self, image_ids) -> None:
        """After a job or an import changed these images: the current filter again, moving
        only what changed. A row that no longer matches leaves, a new match comes in where
        the sort puts it, the rest stay (the view's current row, a persistent index, with
        them); the changed rows are re-read. The query runs on the filter thread."""
        if self.query is None or self._closed:
            return
        generation, db, query = self._generation, self.project.db, self.query
        # Only the rows of cached pages are re-read: the others are read fresh when shown.
        # A check of the whole project names every image, and reading 100k rows (then
        # matching each to its row here, on this thread) took seconds.
        cached = {row.id for page in self._pages.values() for row in page if row is not None}
        changed = sorted(cached.intersection(image_ids))

        def read(_report):
            return browse.image_ids(db, query), browse.page_rows(db, changed) if changed else []

        def landed(result) -> None:
            if generation == self._generation:  # a newer filter replaced this list
                self._merge(*result)

        self.runner.submit(read, landed, lambda exc: self.queryFailed.emit(str(exc)))

    def _merge(self, new_ids: np.ndarray, rows: list[ImageRow]) -> None:
        known = {row.id: row for page in self._pages.values() for row in page if row is not None}
        known.update((row.id, row) for row in rows)
        if np.array_equal(self._ids, new_ids):
            self._update_rows(rows)
            return
        self._merging = True
        self._epoch += 1
        self._pages.clear()
        self._loading.clear()
        self._row_of.clear()
        try:
            self._move_rows(new_ids)
        finally:
            self._merging = False
        for page_no in range((len(self._ids) + self.PAGE - 1) // self.PAGE):
            ids = self._page_ids(page_no)
            if all(i in known for i in ids):
                self._store(page_no, [known[i] for i in ids])
        if len(self._ids):
            self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1))
        self.rowsMerged.emit(len(self._ids))

    def _move_rows(self, new_ids: np.ndarray) -> None:
        root = QModelIndex()
        for start, end in reversed(_runs(np.flatnonzero(~np.isin(self._ids, new_ids)))):
            self.beginRemoveRows(root, start, end)
            self._ids = np.delete(self._ids, np.s_[start : end + 1])
            self.endRemoveRows()
        fresh = ~np.isin(new_ids, self._ids)
        if np.array_equal(new_ids[~fresh], self._ids):
            # The survivors kept their order: each new run goes in at its final place.
            for start, end in _runs(np.flatnonzero(fresh)):
                self.beginInsertRows(root, start, end)
                self._ids = np.insert(self._ids, start, new_ids[start : end + 1])
                self.endInsertRows()
            return
        # The sort moved rows (most flags first, say): the new ones are added, then one
        # layout change puts every row in its place and the persistent indexes follow.
        if fresh.any():
            n = len(self._ids)
            self.beginInsertRows(root, n, n + int(fresh.sum()) - 1)
            self._ids = np.concatenate([self._ids, new_ids[fresh]])
            self.endInsertRows()
        self.layoutAboutToBeChanged.emit()
        where = {int(i): r for r, i in enumerate(new_ids)}
        before = self.persistentIndexList()
        after = [self.index(where[int(self._ids[p.row()])]) for p in before]
        self._ids = new_ids.astype(np.int64, copy=False)
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def _update_rows(self, rows: list[ImageRow]) -> None:
        touched = []
        for row in rows:
            r = self.row_of(row.id)
            page = self._pages.get(r // self.PAGE) if r is not None else None
            if page is not None:
                page[r % self.PAGE] = row
                touched.append(r)
        if touched:  # one signal: a run over 500 images made 500 repaint requests otherwise
            self.dataChanged.emit(self.index(min(touched)), self.index(max(touched)))

    def _thumb_loaded(self, image_id) -> None:
        r = self._row_of.get(image_id)
        if r is not None:
            index = self.index(r)
            self.dataChanged.emit(index, index, [THUMB_ROLE])


def _runs(positions: np.ndarray) -> list[tuple[int, int]]:
    """Sorted positions as (first, last) runs of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for p in positions.tolist():
        if runs and runs[-1][1] == p - 1:
            runs[-1] = (runs[-1][0], p)
        else:
            runs.append((p, p))
    return runs
