"""An in-memory copy of one model's project vectors for the desktop's repeated searches.

`store.nearest` computes top-k inside DuckDB on every call, which suits one-shot CLI queries;
the Curate tab asks again at each move of its threshold slider, and a numpy matrix product
over vectors already in memory answers about ten times faster (bench/embed.py). The copy
reloads itself when the model's vectors change (their count or ids), and `invalidate` drops
it after an embedding job that may have replaced vectors in place.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from core.project import Project
from core.store import collect as cstore
from core.store import embeddings as store
from core.store.embeddings import ModelRow


class ProjectIndex:
    def __init__(self, project: Project, row: ModelRow):
        self.project, self.row = project, row
        self._lock = threading.Lock()
        self._stamp = None
        self._ids = np.zeros(0, np.int64)
        self._mat = np.zeros((0, row.dim), np.float32)

    def _current_stamp(self) -> tuple:
        return tuple(
            self.project.db.fetchone(
                f"SELECT count(*), coalesce(sum(image_id), 0) FROM "
                f"{store.vectors_table(self.row.dim)} WHERE model_id = ?",
                [self.row.id],
            )
        )

    def invalidate(self) -> None:
        with self._lock:
            self._stamp = None

    def _fresh(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            stamp = self._current_stamp()
            if stamp != self._stamp:
                ids, mat = store.load_vectors(self.project.db, self.row)
                self._ids, self._mat, self._stamp = ids, np.ascontiguousarray(mat), stamp
            return self._ids, self._mat

    def __len__(self) -> int:
        return len(self._fresh()[0])

    def nearest(
        self,
        query: np.ndarray,
        k: int,
        domain: str | None = None,
        exclude: Sequence[int] = (),
    ) -> list[tuple[int, float]]:
        """Top-k (image id, cosine), best first, ties by id: what store.nearest returns."""
        ids, mat = self._fresh()
        sims = mat @ np.asarray(query, np.float32)
        keep = np.ones(len(ids), bool)
        if domain is not None:
            keep &= np.isin(ids, cstore.domain_image_ids(self.project.db, domain))
        if len(exclude):
            keep &= ~np.isin(ids, list(exclude))
        pos = np.flatnonzero(keep)
        if not len(pos):
            return []
        k = min(int(k), len(pos))
        part = pos[np.argpartition(-sims[pos], k - 1)[:k]]
        part = part[np.lexsort((ids[part], -sims[part]))]
        return [(int(ids[p]), float(sims[p])) for p in part]
