"""A local CLIP index over a pool folder the user chose: "more like this" beyond the project.

The vectors are cached per (folder, model) under the project's `pools/` folder, keyed by each
file's path, size and modification time, so a second look at the same folder embeds only new
or changed files, and a cancelled indexing run keeps what it finished. Adding pool images to a
domain goes through the library importer and records them as `expand` provenance with the
seed image and similarity, like `mmstudio clip expand`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.collect.embed import default_model
from core.collect.errors import CollectError
from core.collect.imageio import ImageProblem, open_rgb
from core.collect.pool import PoolItem, read_pool
from core.project import Project
from core.store import collect as cstore
from core.store import embeddings as estore

Progress = Callable[[int, int], None]
SAVE_EVERY = 8  # batches between cache writes: a crash loses at most this much work


@dataclass
class PoolHit:
    path: str
    score: float
    sha256: str
    in_project: bool = False

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class PoolIndex:
    folder: str
    model: str
    dim: int
    paths: list[str] = field(default_factory=list)
    shas: list[str] = field(default_factory=list)
    vecs: np.ndarray | None = None
    failed: list[dict] = field(default_factory=list)  # label, reason, detail
    cancelled: bool = False

    def __len__(self) -> int:
        return len(self.paths)

    def nearest(self, query: np.ndarray, k: int = 50, min_score: float | None = None):
        """(position, cosine) of the k pool images most like a unit `query`, best first."""
        if self.vecs is None or not len(self.paths):
            return []
        sims = self.vecs @ np.asarray(query, np.float32)
        k = min(int(k), len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.lexsort((top, -sims[top]))]
        return [(int(i), float(sims[i])) for i in top
                if min_score is None or sims[i] >= min_score]  # fmt: skip


def cache_file(project: Project, folder: str, model: str) -> Path:
    digest = hashlib.sha256(f"{folder}\n{model}".encode()).hexdigest()[:20]
    return project.root / "pools" / f"{digest}.npz"


def _load_cache(path: Path, dim: int) -> dict[tuple, tuple[str, np.ndarray]]:
    """(path, size, mtime_ns) -> (sha256, vector) from a cache file; {} when unusable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if data["vecs"].shape[1:] != (dim,):
                return {}
            keys = zip(data["paths"].tolist(), data["sizes"].tolist(), data["mtimes"].tolist(),
                       strict=True)  # fmt: skip
            return {
                k: (sha, vec)
                for k, sha, vec in zip(keys, data["shas"].tolist(), data["vecs"], strict=True)
            }
    except (OSError, KeyError, ValueError):
        return {}


def _save_cache(path: Path, entries: dict[tuple, tuple[str, np.ndarray]], dim: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(entries)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        paths=np.array([k[0] for k in keys], dtype=str),
        sizes=np.array([k[1] for k in keys], dtype=np.int64),
        mtimes=np.array([k[2] for k in keys], dtype=np.int64),
        shas=np.array([entries[k][0] for k in keys], dtype=str),
        vecs=np.stack([entries[k][1] for k in keys]) if keys else np.zeros((0, dim), np.float32),
    )
    os.replace(tmp, path)


def index_pool(
    project: Project,
    folder: Path | str,
    model: str | None = None,
    *,
    encoder=None,
    batch_size: int = 16,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> PoolIndex:
    """Embed the images of a pool folder (cached), ready for `nearest` queries."""
    from core.collect.encoder import load_encoder

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise CollectError(f"{folder}: a pool for 'more like this' is a folder of images")
    enc = encoder or load_encoder(default_model(project, model), device="cpu")
    pool = read_pool(folder, project.root / "pools", None)  # a folder needs no temp files
    cache_path = cache_file(project, str(folder.resolve()), enc.key)
    cached = _load_cache(cache_path, enc.dim)
    index = PoolIndex(str(folder.resolve()), enc.key, enc.dim, failed=list(pool.failed))
    entries: dict[tuple, tuple[str, np.ndarray]] = {}
    todo: list[tuple[tuple, PoolItem]] = []
    for item in pool.items:
        st = os.stat(item.path)
        key = (item.path, st.st_size, st.st_mtime_ns)
        if key in cached:
            entries[key] = cached[key]
        else:
            todo.append((key, item))
    max_pixels = int(project.settings()["max_image_pixels"])
    if progress:
        progress(0, len(todo))
    for n, start in enumerate(range(0, len(todo), batch_size)):
        if cancel is not None and cancel.is_set():
            index.cancelled = True
            break
        chunk = todo[start : start + batch_size]
        images, keys = [], []
        for key, item in chunk:
            try:
                images.append(open_rgb(item.path, max_pixels))
                keys.append((key, item))
            except ImageProblem as exc:
                index.failed.append({"label": item.path, "reason": exc.reason,
                                     "detail": exc.detail})  # fmt: skip
        if images:
            for (key, item), vec in zip(keys, enc.encode_images(images), strict=True):
                entries[key] = (item.sha256, vec)
        if n % SAVE_EVERY == SAVE_EVERY - 1:
            _save_cache(cache_path, entries, enc.dim)
        if progress:
            progress(min(start + batch_size, len(todo)), len(todo))
    _save_cache(cache_path, entries, enc.dim)
    keys = sorted(entries)
    index.paths = [k[0] for k in keys]
    index.shas = [entries[k][0] for k in keys]
    index.vecs = (np.stack([entries[k][1] for k in keys]).astype(np.float32)
                  if keys else np.zeros((0, enc.dim), np.float32))  # fmt: skip
    return index


def query_vector(project: Project, index: PoolIndex, image_id: int) -> np.ndarray:
    """The stored vector of project image `image_id` from the index's model."""
    row = estore.get_model(project.db, index.model)
    ids, vecs = estore.load_vectors(project.db, row, ids=[image_id]) if row else ([], None)
    if not len(ids):
        raise CollectError(
            f"image {image_id} has no embedding from {index.model} yet; embed the project first"
        )
    return vecs[0]


def pool_like(
    project: Project,
    index: PoolIndex,
    image_id: int,
    k: int = 50,
    min_score: float | None = None,
) -> list[PoolHit]:
    """Pool images most like project image `image_id`, marking those already imported."""
    found = index.nearest(query_vector(project, index, image_id), k, min_score)
    known = cstore.ids_by_sha(project.db, [index.shas[i] for i, _ in found])
    return [PoolHit(index.paths[i], round(s, 6), index.shas[i], index.shas[i] in known)
            for i, s in found]  # fmt: skip


def add_pool_images(
    project: Project,
    index: PoolIndex,
    hits: list[PoolHit],
    domain: str,
    seed_id: int,
    *,
    progress: Progress | None = None,
) -> dict:
    """Import the chosen pool images into `domain`, as `expand` provenance of `seed_id`,
    with their vectors stored at once (they are searchable right away)."""
    from core.collect.expand import record_pool_imports
    from core.domains import ensure_domain
    from core.library.importer import import_paths

    ensure_domain(project.db, domain)
    fresh = [h for h in hits if not h.in_project]
    if not fresh:
        return {"imported": 0, "duplicates": 0, "rejected": [], "batch_id": None}
    position = {p: i for i, p in enumerate(index.paths)}
    picked = [PoolItem(h.path, h.path, sha256=h.sha256) for h in fresh]
    vecs = index.vecs[[position[h.path] for h in fresh]]
    row = estore.register_model(project.db, index.model, index.dim)
    summary = import_paths(project, [Path(h.path) for h in fresh], domain=domain,
                           workers=0, progress=progress)  # fmt: skip
    record_pool_imports(
        project, summary, picked, [(h.score, 0) for h in fresh], vecs, row, [seed_id]
    )
    return {
        "imported": summary.imported,
        "duplicates": summary.duplicates,
        "rejected": [dict(r) for r in summary.rejected],
        "batch_id": summary.batch_id,
    }
