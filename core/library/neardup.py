"""Near-duplicate grouping on 64-bit perceptual hashes, by Hamming distance.

All hashes of the project sit in one numpy array; a query is one XOR and one popcount over
it, fast enough for hundreds of thousands of images without an index structure.
"""

from __future__ import annotations

import numpy as np

NO_GROUP = -1


class PhashIndex:
    def __init__(self, ids=(), hashes=(), groups=()):
        n = len(ids)
        cap = max(1024, 2 * n)
        self._ids = np.zeros(cap, dtype=np.int64)
        self._hashes = np.zeros(cap, dtype=np.uint64)
        self._groups = np.full(cap, NO_GROUP, dtype=np.int64)
        self._ids[:n] = np.asarray(ids, dtype=np.int64)
        self._hashes[:n] = np.asarray(hashes, dtype=np.uint64)
        self._groups[:n] = np.asarray(groups, dtype=np.int64)
        self._n = n

    def __len__(self) -> int:
        return self._n

    def nearest(self, phash: int, threshold: int) -> int | None:
        """Position of the closest earlier image within `threshold` bits (ties: the oldest)."""
        if threshold < 0 or not self._n:
            return None
        dist = np.bitwise_count(self._hashes[: self._n] ^ np.uint64(phash))
        pos = int(np.argmin(dist))  # argmin returns the first of equals: the oldest
        return pos if int(dist[pos]) <= threshold else None

    def id_at(self, pos: int) -> int:
        return int(self._ids[pos])

    def group_at(self, pos: int) -> int | None:
        g = int(self._groups[pos])
        return None if g == NO_GROUP else g

    def set_group(self, pos: int, group: int) -> None:
        self._groups[pos] = group

    def add(self, image_id: int, phash: int, group: int | None) -> None:
        if self._n == len(self._ids):
            grow = len(self._ids)
            self._ids = np.concatenate([self._ids, np.zeros(grow, dtype=np.int64)])
            self._hashes = np.concatenate([self._hashes, np.zeros(grow, dtype=np.uint64)])
            self._groups = np.concatenate([self._groups, np.full(grow, NO_GROUP, np.int64)])
        self._ids[self._n] = image_id
        self._hashes[self._n] = np.uint64(phash)
        self._groups[self._n] = NO_GROUP if group is None else group
        self._n += 1
