"""The instruction table's model: items across images, paged from DuckDB, never all in Python.

A query lands in two steps on a worker thread: the count and the first page (a top-N, so a
sort switch over a million items paints at once), then the ordered ids, from which later pages
are read by primary key at stable positions. Until the ids are there a later page is read
with OFFSET. Sorting by a header click is a new query (core.store.item_table.SORTS).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor

from core.store import item_pages, item_table
from core.store.item_table import ItemQuery, ItemRow
from desktop.strings import N_, STATUS_COLORS, domain_label, label, tr
from desktop.workers.tasks import TaskRunner

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # ItemRow, or None while its page loads

# (title, sort key or None, text of a row)
COLUMNS = [
    (N_("Item"), "id", lambda r: f"#{r.id}"),
    (N_("Image"), "image", lambda r: f"#{r.image_id}"),
    (N_("Domain"), "domain", lambda r: domain_label(r.domain)),
    (N_("Type"), "itype", lambda r: label("itype", r.itype)),
    (N_("Status"), "status", lambda r: label("status", r.status)),
    (N_("Risk"), "risk", lambda r: "—" if r.risk is None else f"{r.risk:.2f}"),
    (N_("Flags"), "flags", lambda r: ", ".join(r.check_flags)),
    (N_("Question"), "question", lambda r: r.question.replace("\n", " ")),
    (N_("Answer"), None, lambda r: r.answer.replace("\n", " ")),
]
SORT_COLUMN = {key: k for k, (_t, key, _f) in enumerate(COLUMNS) if key}
STATUS_COLUMN = 4


class InstructionTableModel(QAbstractTableModel):
    PAGE = 200
    PAGES_KEPT = 40

    queryApplied = Signal(object, int)  # ItemQuery, row count (a lower bound: counting())
    countLanded = Signal(int)  # the exact count, after a first page that came without it
    queryFailed = Signal(str)

    def __init__(self, project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.runner = TaskRunner(self, threads=1)  # queries, then their id lists
        self.pager = TaskRunner(self, threads=1)  # row pages
        self.query = ItemQuery()
        self._count = 0
        self._counting = False  # _count is a lower bound until the ids land
        self._ids: np.ndarray | None = None  # the ordered ids, once read
        self._pages: OrderedDict[int, list[ItemRow | None]] = OrderedDict()
        self._loading: set[int] = set()
        self._generation = 0
        self._closed = False

    # query ---------------------------------------------------------------------------
    def set_query(self, query: ItemQuery, wait: bool = False) -> None:
        if self._closed:
            return
        self._generation += 1
        generation, db, size = self._generation, self.project.db, self.PAGE

        def first(_report=None):
            # a word in most items: the first page alone, its count comes with the ids
            # (core.store.item_pages)
            return item_pages.first_page(db, query, size)

        def apply(result) -> None:
            if generation != self._generation:
                return
            self._reset(query, *result)
            self.runner.submit(lambda _r: item_table.item_ids(db, query), ids_landed, fail)

        def ids_landed(ids: np.ndarray) -> None:
            if generation == self._generation and not self._closed:
                self._ids = ids
                if self._counting:
                    self._count_landed(len(ids))

        def fail(exc: BaseException) -> None:
            if generation == self._generation:
                self.queryFailed.emit(str(exc))

        if wait:
            apply(first())
        else:
            self.runner.submit(first, apply, fail)

    def refresh(self) -> None:
        self.set_query(self.query)

    def _reset(self, query: ItemQuery, count: int | None, rows: list[ItemRow]) -> None:
        self.beginResetModel()
        self.query = query
        self._counting = count is None
        self._count = len(rows) if count is None else count
        self._ids = None
        self._pages.clear()
        self._loading.clear()
        if rows:
            self._store(0, rows)
        self.endResetModel()
        self.queryApplied.emit(query, self._count)

    def counting(self) -> bool:
        """The row count is the first page's until the ordered ids land (a common word)."""
        return self._counting

    def _count_landed(self, count: int) -> None:
        # Rows come in below the first page (or leave, when items left the query since):
        # the reviewer's current row and scroll position stay where they are.
        self._counting = False
        if count > self._count:
            self.beginInsertRows(QModelIndex(), self._count, count - 1)
            self._count = count
            self.endInsertRows()
        elif count < self._count:
            self.beginRemoveRows(QModelIndex(), count, self._count - 1)
            self._count = count
            self.endRemoveRows()
        self.countLanded.emit(count)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1] if 0 <= column < len(COLUMNS) else None
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) != (self.query.sort, self.query.descending):
            self.set_query(self.query.with_(sort=key, descending=descending))

    # Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(COLUMNS[section][0])
        return None

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.cached_row(index.row())
        if row is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole and index.column() == 0 else None
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[index.column()][2](row)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATUS_COLUMN:
            return QColor(STATUS_COLORS.get(row.status, "#777"))
        if role == Qt.ItemDataRole.ToolTipRole and index.column() >= 7:
            return COLUMNS[index.column()][2](row)
        return None

    # rows ----------------------------------------------------------------------------
    def cached_row(self, r: int) -> ItemRow | None:
        if not 0 <= r < self._count:
            return None
        page_no = r // self.PAGE
        page = self._pages.get(page_no)
        if page is None:
            if not self._closed:
                self._request(page_no)
            return None
        self._pages.move_to_end(page_no)
        k = r - page_no * self.PAGE
        return page[k] if k < len(page) else None

    def row(self, r: int) -> ItemRow | None:
        """The row, read now if its page is not here (for a command that needs it at once)."""
        if not 0 <= r < self._count:
            return None
        page_no = r // self.PAGE
        if page_no not in self._pages:
            self._store(page_no, self._read(page_no))
        return self.cached_row(r)

    def _read(self, page_no: int) -> list[ItemRow | None]:
        db, start = self.project.db, page_no * self.PAGE
        if self._ids is not None:
            return item_table.rows_for(db, self._ids[start : start + self.PAGE].tolist())
        return list(item_table.first_rows(db, self.query, self.PAGE, start))

    def _request(self, page_no: int) -> None:
        if page_no in self._pages or page_no in self._loading:
            return
        self._loading.add(page_no)
        generation = self._generation
        ids = self._ids
        db, query, start, size = self.project.db, self.query, page_no * self.PAGE, self.PAGE

        def read(_report):
            if ids is not None:
                return item_table.rows_for(db, ids[start : start + size].tolist())
            return list(item_table.first_rows(db, query, size, start))

        def landed(page) -> None:
            if generation != self._generation:
                return
            self._loading.discard(page_no)
            self._store(page_no, page)
            if page:
                last = min(self._count, start + len(page)) - 1
                self.dataChanged.emit(self.index(start, 0), self.index(last, len(COLUMNS) - 1))

        def failed(exc: BaseException) -> None:
            self._loading.discard(page_no)
            self.queryFailed.emit(str(exc))

        self.pager.submit(read, landed, failed)

    def _store(self, page_no: int, page: list[ItemRow | None]) -> None:
        self._pages[page_no] = page
        self._pages.move_to_end(page_no)
        while len(self._pages) > self.PAGES_KEPT:
            self._pages.popitem(last=False)

    def row_of(self, item_id: int) -> int | None:
        for page_no, page in self._pages.items():
            for k, row in enumerate(page):
                if row is not None and row.id == item_id:
                    return page_no * self.PAGE + k
        if self._ids is not None:
            hits = np.flatnonzero(self._ids == item_id)
            if len(hits):
                return int(hits[0])
        return None

    def invalidate_images(self, image_ids) -> None:
        """Re-read the cached rows of these images (after an edit or an undo); nothing moves."""
        images = image_ids if isinstance(image_ids, (set, frozenset)) else set(image_ids)
        where = [
            (page_no, k, row.id)
            for page_no, page in self._pages.items()
            for k, row in enumerate(page)
            if row is not None and row.image_id in images
        ]
        self._reread(where)

    def invalidate_items(self, item_ids) -> None:
        # a run's Changes hold a frozenset already: a copy of a million ids on this thread
        # would be one call of ~30 ms
        items = item_ids if isinstance(item_ids, (set, frozenset)) else set(item_ids)
        where = [
            (page_no, k, row.id)
            for page_no, page in self._pages.items()
            for k, row in enumerate(page)
            if row is not None and row.id in items
        ]
        self._reread(where)

    def _reread(self, where: list[tuple[int, int, int]]) -> None:
        if not where or self._closed:
            return
        generation, db = self._generation, self.project.db

        def landed(rows: list[ItemRow | None]) -> None:
            if generation != self._generation:
                return
            for (page_no, k, _id), row in zip(where, rows, strict=True):
                page = self._pages.get(page_no)
                if page is not None and row is not None:
                    page[k] = row
                    r = page_no * self.PAGE + k
                    self.dataChanged.emit(self.index(r, 0), self.index(r, len(COLUMNS) - 1))

        self.pager.submit(lambda _r: item_table.rows_for(db, [w[2] for w in where]), landed)

    def shutdown(self) -> None:
        self._closed = True
        self._generation += 1
        self.runner.wait()
        self.pager.wait()

    def busy(self) -> bool:
        return self.runner.busy() or self.pager.busy()
