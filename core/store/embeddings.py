"""Typed queries for CLIP embeddings, domain relevance flags and embedding duplicate groups.

Vectors are L2-normalised before they are stored, so cosine similarity is the inner product.
Each dimension has its own table with a FLOAT[dim] column (see migration 050).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from core.errors import StudioError
from core.store.db import Database

MAX_DIM = 8192


@dataclass(frozen=True)
class ModelRow:
    id: int
    name: str
    dim: int
    vectors: int = 0

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "dim": self.dim, "vectors": self.vectors}


def vectors_table(dim: int) -> str:
    # The name is built from an int checked here, never from user text.
    if not isinstance(dim, int) or not 0 < dim <= MAX_DIM:
        raise StudioError(f"embedding size {dim!r} is out of range (1..{MAX_DIM})")
    return f"clip_vectors_{dim}"


def _ensure_table(cur, dim: int) -> str:
    table = vectors_table(dim)
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (model_id INTEGER NOT NULL, image_id BIGINT NOT NULL, "
        f"vec FLOAT[{dim}] NOT NULL, PRIMARY KEY (model_id, image_id))"
    )
    return table


def register_model(db: Database, name: str, dim: int) -> ModelRow:
    """The row of model `name`, created (with its vectors table) on first use."""
    with db.tx() as cur:
        row = cur.execute("SELECT id, dim FROM clip_models WHERE name = ?", [name]).fetchone()
        if row is not None and row[1] != dim:
            raise StudioError(
                f"model {name!r} was stored with {row[1]}-d embeddings, now it gives {dim}-d; "
                "remove its embeddings first (mmstudio clip forget PROJECT --model NAME)"
            )
        _ensure_table(cur, dim)
        if row is None:
            row = cur.execute(
                "INSERT INTO clip_models (name, dim) VALUES (?, ?) RETURNING id, dim", [name, dim]
            ).fetchone()
        cur.execute("UPDATE clip_models SET used_at = current_timestamp WHERE id = ?", [row[0]])
    return ModelRow(row[0], name, dim)


def get_model(db: Database, name: str | None = None) -> ModelRow | None:
    """Model `name`, or with no name the one used last."""
    if name is None:
        row = db.fetchone("SELECT id, name, dim FROM clip_models ORDER BY used_at DESC, id DESC")
    else:
        row = db.fetchone("SELECT id, name, dim FROM clip_models WHERE name = ?", [name])
    if row is None:
        return None
    return ModelRow(row[0], row[1], row[2], count_vectors(db, ModelRow(*row)))


def list_models(db: Database) -> list[ModelRow]:
    rows = db.fetchall("SELECT id, name, dim FROM clip_models ORDER BY id")
    return [ModelRow(*r, count_vectors(db, ModelRow(*r))) for r in rows]


def count_vectors(db: Database, model: ModelRow) -> int:
    return db.scalar(
        f"SELECT count(*) FROM {vectors_table(model.dim)} v JOIN images i ON i.id = v.image_id "
        "WHERE v.model_id = ?",
        [model.id],
    )


def forget_model(db: Database, model: ModelRow) -> None:
    with db.tx() as cur:
        cur.execute(f"DELETE FROM {vectors_table(model.dim)} WHERE model_id = ?", [model.id])
        cur.execute("DELETE FROM clip_relevance WHERE model_id = ?", [model.id])
        cur.execute("DELETE FROM clip_groups WHERE model_id = ?", [model.id])
        cur.execute("DELETE FROM clip_models WHERE id = ?", [model.id])


def images_to_embed(
    db: Database,
    model: ModelRow,
    domain: str | None = None,
    ids: Sequence[int] | None = None,
    force: bool = False,
) -> list[tuple[int, str, str]]:
    """(id, storage, path) of the images that still need a vector from `model`."""
    sql = "SELECT i.id, i.storage, i.path FROM images i WHERE true"
    params: list = []
    if not force:
        sql += (
            f" AND i.id NOT IN (SELECT image_id FROM {vectors_table(model.dim)} WHERE model_id = ?)"
        )
        params.append(model.id)
    if domain is not None:
        sql += " AND i.domain = ?"
        params.append(domain)
    if ids is not None:
        sql += " AND i.id IN (SELECT unnest(?))"
        params.append(list(ids))
    return db.fetchall(sql + " ORDER BY i.id", params)


def write_vectors(db: Database, model: ModelRow, ids: Sequence[int], vecs: np.ndarray) -> None:
    """Store (or replace) normalised vectors for `ids`."""
    if not len(ids):
        return
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    if vecs.shape != (len(ids), model.dim):
        raise StudioError(f"expected {len(ids)} x {model.dim} vectors, got {vecs.shape}")
    table = pa.table(
        {
            "model_id": pa.array([model.id] * len(ids), pa.int32()),
            "image_id": pa.array(list(ids), pa.int64()),
            "vec": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), model.dim),
        }
    )
    with db.tx() as cur:
        cur.register("_vecs", table)
        try:
            cur.execute(
                f"INSERT OR REPLACE INTO {vectors_table(model.dim)} "
                "SELECT model_id, image_id, vec FROM _vecs"
            )
        finally:
            cur.unregister("_vecs")


def load_vectors(
    db: Database, model: ModelRow, domain: str | None = None, ids: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(image ids, n x dim matrix) of the stored vectors of existing images, in no particular
    order (row i of the matrix belongs to ids[i])."""
    sql = (
        f"SELECT v.image_id, v.vec FROM {vectors_table(model.dim)} v "
        "JOIN images i ON i.id = v.image_id WHERE v.model_id = ?"
    )
    params: list = [model.id]
    if domain is not None:
        sql += " AND i.domain = ?"
        params.append(domain)
    if ids is not None:
        sql += " AND v.image_id IN (SELECT unnest(?))"
        params.append(list(ids))
    # No ORDER BY: sorting the wide rows costs four times the read itself (bench/embed.py).
    table = _arrow(db, sql, params)
    out_ids = table.column("image_id").to_numpy().astype(np.int64)
    return out_ids, _matrix(table.column("vec"), model.dim)


def _arrow(db: Database, sql: str, params: list) -> pa.Table:
    # A relation straight to Arrow skips the extra copy a DB-API result makes; it needs a
    # connection with no half-read result on it, so it gets a cursor of its own.
    with db.cursor().cursor() as cur:
        rel = cur.sql(sql, params=params)
        # duckdb >= 1.4 names it to_arrow_table; older releases call it arrow().
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()


def _matrix(column: pa.ChunkedArray, dim: int) -> np.ndarray:
    """An n x dim float32 matrix over a FLOAT[dim] column, without a per-value conversion."""
    parts = []
    for chunk in column.chunks:
        flat = chunk.flatten()  # honours the chunk's offset, unlike .values
        if flat.null_count == 0 and flat.type == pa.float32():
            buf = flat.buffers()[1]
            parts.append(np.frombuffer(buf, np.float32, count=len(flat), offset=flat.offset * 4))
        else:
            parts.append(flat.to_numpy(zero_copy_only=False).astype(np.float32))
    if not parts:
        return np.zeros((0, dim), np.float32)
    flat = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return flat.reshape(-1, dim)


def nearest(
    db: Database,
    model: ModelRow,
    query: np.ndarray,
    k: int,
    domain: str | None = None,
    exclude: Sequence[int] = (),
) -> list[tuple[int, float]]:
    """Top-k (image id, cosine) for a normalised query vector: brute force inside DuckDB."""
    sql = (
        f"SELECT v.image_id, array_inner_product(v.vec, ?::FLOAT[{model.dim}]) AS score "
        f"FROM {vectors_table(model.dim)} v JOIN images i ON i.id = v.image_id "
        "WHERE v.model_id = ?"
    )
    params: list = [np.asarray(query, dtype=np.float32).tolist(), model.id]
    if domain is not None:
        sql += " AND i.domain = ?"
        params.append(domain)
    if exclude:
        sql += " AND v.image_id NOT IN (SELECT unnest(?))"
        params.append(list(exclude))
    sql += " ORDER BY score DESC, v.image_id LIMIT ?"
    params.append(int(k))
    return [(r[0], float(r[1])) for r in db.fetchall(sql, params)]


# relevance -------------------------------------------------------------------------------
def write_relevance(db: Database, model: ModelRow, rows: list[dict]) -> None:
    """Rows with keys image_id, domain, score, threshold, off_domain, best_prompt, best_domain."""
    if not rows:
        return
    cols = ("image_id", "domain", "score", "threshold", "off_domain", "best_prompt", "best_domain")
    types = {
        "image_id": pa.int64(),
        "score": pa.float32(),
        "threshold": pa.float32(),
        "off_domain": pa.bool_(),
    }
    table = pa.table({c: pa.array([r[c] for r in rows], types.get(c, pa.string())) for c in cols})
    with db.tx() as cur:
        cur.register("_rel", table)
        try:
            cur.execute(
                "INSERT OR REPLACE INTO clip_relevance (image_id, model_id, domain, score, "
                "threshold, off_domain, best_prompt, best_domain) SELECT image_id, ?, domain, "
                "score, threshold, off_domain, best_prompt, best_domain FROM _rel",
                [model.id],
            )
        finally:
            cur.unregister("_rel")


def relevance(
    db: Database, model: ModelRow, domain: str | None = None, off_domain_only: bool = False
) -> list[dict]:
    sql = (
        "SELECT r.image_id, r.domain, r.score, r.threshold, r.off_domain, r.best_prompt, "
        "r.best_domain FROM clip_relevance r JOIN images i ON i.id = r.image_id "
        "WHERE r.model_id = ? AND r.domain = i.domain"
    )
    params: list = [model.id]
    if domain is not None:
        sql += " AND r.domain = ?"
        params.append(domain)
    if off_domain_only:
        sql += " AND r.off_domain"
    keys = ("image_id", "domain", "score", "threshold", "off_domain", "best_prompt", "best_domain")
    return [dict(zip(keys, r, strict=True)) for r in db.fetchall(sql + " ORDER BY r.score", params)]


# duplicate groups ------------------------------------------------------------------------
def replace_groups(
    db: Database,
    model: ModelRow,
    rows: list[tuple[int, int, float]],
    threshold: float,
    scope: Sequence[int],
) -> None:
    """Replace the groups of the images in `scope` with rows of (image_id, group_id, sim)."""
    with db.tx() as cur:
        cur.execute(
            "DELETE FROM clip_groups WHERE model_id = ? AND image_id IN (SELECT unnest(?))",
            [model.id, list(scope)],
        )
        if rows:
            table = pa.table(
                {
                    "image_id": pa.array([r[0] for r in rows], pa.int64()),
                    "group_id": pa.array([r[1] for r in rows], pa.int64()),
                    "similarity": pa.array([r[2] for r in rows], pa.float32()),
                }
            )
            cur.register("_groups", table)
            try:
                cur.execute(
                    "INSERT INTO clip_groups (model_id, image_id, group_id, similarity, threshold) "
                    "SELECT ?, image_id, group_id, similarity, ? FROM _groups",
                    [model.id, threshold],
                )
            finally:
                cur.unregister("_groups")


def groups(db: Database, model: ModelRow) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for image_id, group_id in db.fetchall(
        "SELECT g.image_id, g.group_id FROM clip_groups g JOIN images i ON i.id = g.image_id "
        "WHERE g.model_id = ? ORDER BY g.group_id, g.image_id",
        [model.id],
    ):
        out.setdefault(group_id, []).append(image_id)
    return out
