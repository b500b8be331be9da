"""Search by text or by image over stored embeddings, and near-duplicate groups by embedding.

Searches are brute force inside DuckDB (an inner product over every stored vector of the
model); bench/embed.py shows what that costs at 100k and 1M vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.collect.catalog import spec_for
from core.collect.embed import embed_images, encoder_for, stored_model
from core.collect.errors import CollectError
from core.collect.imageio import ImageProblem, open_rgb
from core.project import Project
from core.store import collect as cstore
from core.store import embeddings as store

DUP_BLOCK = 2048  # rows per block of the pairwise similarity matrix


@dataclass(frozen=True)
class Hit:
    image_id: int
    score: float
    domain: str | None = None
    status: str | None = None
    title: str | None = None
    path: str | None = None  # absolute file path

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _hits(project: Project, pairs: list[tuple[int, float]]) -> list[Hit]:
    info = cstore.image_summaries(project.db, [i for i, _ in pairs])
    out = []
    for image_id, score in pairs:
        d = info.get(image_id, {})
        path = project.resolve_media(d["storage"], d["path"]) if d else None
        out.append(
            Hit(
                image_id,
                round(score, 6),
                d.get("domain"),
                d.get("status"),
                d.get("title"),
                str(path) if path else None,
            )
        )
    return out


def _check_k(k: int) -> int:
    if not 1 <= int(k) <= 10_000:
        raise CollectError("k must be between 1 and 10000")
    return int(k)


def search_text(
    project: Project,
    text: str,
    k: int = 20,
    model: str | None = None,
    domain: str | None = None,
    encoder=None,
) -> list[Hit]:
    """The k images most similar to `text`, best first."""
    if not text or not text.strip():
        raise CollectError("no text to search for")
    row = stored_model(project, model)
    query = encoder_for(row, encoder).encode_texts([text.strip()])[0]
    return _hits(project, store.nearest(project.db, row, query, _check_k(k), domain))


def similar_images(
    project: Project,
    image_id: int,
    k: int = 20,
    model: str | None = None,
    domain: str | None = None,
    encoder=None,
) -> list[Hit]:
    """The k images most similar to image `image_id` (itself excluded), best first. An image
    without a vector yet is embedded first."""
    db = project.db
    if not cstore.image_files(db, [image_id]):
        raise CollectError(f"no image with id {image_id}")
    row = stored_model(project, model)
    ids, vecs = store.load_vectors(db, row, ids=[image_id])
    if not len(ids):
        got = embed_images(project, row.name, ids=[image_id], encoder=encoder_for(row, encoder))
        if got.failed:
            raise CollectError(f"image {image_id} cannot be read: {got.failed[0]['reason']}")
        ids, vecs = store.load_vectors(db, row, ids=[image_id])
    return _hits(project, store.nearest(db, row, vecs[0], _check_k(k), domain, [image_id]))


def search_image_file(
    project: Project,
    path: str,
    k: int = 20,
    model: str | None = None,
    domain: str | None = None,
    encoder=None,
) -> list[Hit]:
    """The k project images most similar to an image file outside the project."""
    row = stored_model(project, model)
    try:
        img = open_rgb(path, int(project.settings()["max_image_pixels"]))
    except ImageProblem as exc:
        raise CollectError(f"{path}: {exc.reason} {exc.detail}".strip()) from None
    query = encoder_for(row, encoder).encode_images([img])[0]
    return _hits(project, store.nearest(project.db, row, query, _check_k(k), domain))


# near duplicates ---------------------------------------------------------------------------
def duplicate_pairs(
    vecs: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i < j) with cosine >= threshold, computed block by block so memory stays
    at DUP_BLOCK x n floats."""
    rows, cols, sims = [], [], []
    n = len(vecs)
    for start in range(0, n, DUP_BLOCK):
        block = vecs[start : start + DUP_BLOCK] @ vecs[start:].T
        i, j = np.nonzero(block >= threshold)
        keep = j > i  # upper triangle; block column 0 is row `start`
        rows.append(i[keep] + start)
        cols.append(j[keep] + start)
        sims.append(block[i[keep], j[keep]])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of n items, given the edges a[k]-b[k]."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def group_near_duplicates(
    project: Project,
    threshold: float | None = None,
    model: str | None = None,
    domain: str | None = None,
) -> dict:
    """Group images whose embeddings are at least `threshold` similar (transitively), store
    the groups in clip_groups, and return {"threshold", "groups": [[ids...], ...]}."""
    row = stored_model(project, model)
    threshold = spec_for(row.name).duplicate_threshold if threshold is None else float(threshold)
    if not 0.0 < threshold <= 1.0:
        raise CollectError("the duplicate threshold is a cosine similarity in (0, 1]")
    ids, vecs = store.load_vectors(project.db, row, domain=domain)
    a, b, s = duplicate_pairs(vecs, threshold)
    roots = _components(len(ids), a, b)
    best = np.zeros(len(ids), np.float32)
    np.maximum.at(best, a, s)
    np.maximum.at(best, b, s)
    members: dict[int, list[int]] = {}
    for pos, root in enumerate(roots.tolist()):
        members.setdefault(root, []).append(pos)
    groups, rows = [], []
    for positions in members.values():
        if len(positions) < 2:
            continue
        group_ids = sorted(int(ids[p]) for p in positions)
        groups.append(group_ids)
        rows += [(int(ids[p]), group_ids[0], float(best[p])) for p in positions]
    store.replace_groups(project.db, row, rows, threshold, [int(i) for i in ids])
    groups.sort(key=lambda g: g[0])
    return {"model": row.name, "threshold": threshold, "images": len(ids), "groups": groups}
