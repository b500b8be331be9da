"""Thumbnails decoded on pool threads into an LRU cache; the grid paints placeholders meanwhile.

Requests are served newest first and the queue is capped, so after a fast scroll the threads
work on what is on screen now, not on rows the user flew past.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader


def read_scaled(path: str, box: int) -> QImage:
    """Decode `path` scaled to fit a `box` square; a null QImage when it cannot be read."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > box or size.height() > box):
        reader.setScaledSize(size.scaled(QSize(box, box), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return QImage()
    return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


class LRUCache:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()

    def get(self, key):
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __contains__(self, key) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


class _Drain(QRunnable):
    def __init__(self, loader: ThumbnailLoader):
        super().__init__()
        self.loader = loader

    def run(self) -> None:
        loader = self.loader
        while True:
            job = loader._next_job()
            if job is None:
                return
            key, path = job
            loader._delivered.emit(key, read_scaled(path, loader.box))


class ThumbnailLoader(QObject):
    loaded = Signal(object)  # the key whose image is now in the cache
    _delivered = Signal(object, QImage)

    def __init__(
        self,
        parent: QObject | None = None,
        box: int = 160,
        capacity: int = 1500,
        threads: int = 2,
        max_pending: int = 400,
    ):
        super().__init__(parent)
        self.box = box
        self.cache = LRUCache(capacity)
        self.max_pending = max_pending
        self.threads = threads
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._lock = threading.Lock()
        self._stack: list[tuple[object, str]] = []
        self._pending: set = set()
        self._active = 0
        self._delivered.connect(self._store)
        self.failed: set = set()  # keys whose file could not be read; not retried

    def get(self, key) -> QImage | None:
        return self.cache.get(key)

    def request(self, key, path: str) -> None:
        if key in self.cache or key in self.failed:
            return
        start = False
        with self._lock:
            if key in self._pending:
                return
            self._pending.add(key)
            self._stack.append((key, path))
            if len(self._stack) > self.max_pending:
                dropped = self._stack[: len(self._stack) - self.max_pending]
                del self._stack[: len(dropped)]
                self._pending.difference_update(k for k, _ in dropped)
            if self._active < self.threads:
                self._active += 1
                start = True
        if start:
            self.pool.start(_Drain(self))

    def _next_job(self) -> tuple[object, str] | None:
        with self._lock:
            if not self._stack:
                self._active -= 1
                return None
            return self._stack.pop()

    def _store(self, key, image: QImage) -> None:
        with self._lock:
            self._pending.discard(key)
        if image.isNull():
            self.failed.add(key)
        else:
            self.cache.put(key, image)
        self.loaded.emit(key)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def clear(self) -> None:
        with self._lock:
            self._stack.clear()
            self._pending.clear()
        self.cache.clear()
        self.failed.clear()

    def shutdown(self) -> None:
        with self._lock:
            self._stack.clear()
        self.pool.waitForDone()
