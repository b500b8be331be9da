"""Thumbnails decoded on worker threads into an LRU cache; the grid paints placeholders meanwhile.

Requests are served newest first and the queue is capped, so after a fast scroll the threads
work on what is on screen now, not on rows the user flew past.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from PySide6.QtCore import QObject, QSize, Qt, Signal
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


class ThumbnailLoader(QObject):
    """Decodes on its own long-lived threads: waking one is a condition notify, much cheaper
    than a QThreadPool start for each of the hundreds of requests a scroll makes."""

    loaded = Signal(object)  # the key whose image is now in the cache (or failed)
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
        self.failed: set = set()  # keys whose file could not be read; not retried
        self._cond = threading.Condition()
        self._stack: list[tuple[object, str]] = []
        self._pending: set = set()
        self._busy = 0
        self._closed = False
        self._delivered.connect(self._store)
        self._threads = [
            threading.Thread(target=self._work, name=f"thumbnails-{k}", daemon=True)
            for k in range(threads)
        ]
        for t in self._threads:
            t.start()

    def get(self, key) -> QImage | None:
        return self.cache.get(key)

    def request(self, key, path: str) -> None:
        if key in self.cache or key in self.failed:
            return
        with self._cond:
            if key in self._pending or self._closed:
                return
            self._pending.add(key)
            self._stack.append((key, path))
            if len(self._stack) > self.max_pending:
                dropped = self._stack[: len(self._stack) - self.max_pending]
                del self._stack[: len(dropped)]
                self._pending.difference_update(k for k, _ in dropped)
            self._cond.notify()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stack and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                key, path = self._stack.pop()  # newest first: what is on screen now
                self._busy += 1
            try:
                image = read_scaled(path, self.box)
            finally:
                with self._cond:
                    self._busy -= 1
            self._delivered.emit(key, image)

    def _store(self, key, image: QImage) -> None:
        with self._cond:
            self._pending.discard(key)
        if image.isNull():
            self.failed.add(key)
        else:
            self.cache.put(key, image)
        self.loaded.emit(key)

    def pending(self) -> int:
        """Requests not yet delivered to the GUI thread."""
        with self._cond:
            return len(self._pending)

    def clear(self) -> None:
        with self._cond:
            self._stack.clear()
            self._pending.clear()
        self.cache.clear()
        self.failed.clear()

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            self._stack.clear()
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=10)
