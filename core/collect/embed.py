"""Embed a project's images with a CLIP-style model and store the vectors in DuckDB.

Each batch is written in its own transaction, so an interrupted run keeps what it finished
and the next run only embeds what is missing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from core.collect.errors import CollectError
from core.collect.imageio import ImageProblem, open_rgb
from core.project import Project
from core.store import embeddings as store
from core.store.embeddings import ModelRow

Progress = Callable[[int, int], None]
BATCH = 32


@dataclass
class EmbedSummary:
    model: str
    dim: int
    embedded: int = 0
    already: int = 0
    failed: list[dict] = field(default_factory=list)  # image_id, reason, detail
    cancelled: bool = False  # stopped between two batches; the next run goes on from there

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "dim": self.dim,
            "embedded": self.embedded,
            "already": self.already,
            "failed": [dict(f) for f in self.failed],
        }

    def describe(self) -> str:
        text = f"Embedded {self.embedded} image(s) with {self.model} ({self.dim}-d)"
        if self.already:
            text += f"; {self.already} already had a vector"
        if self.failed:
            text += f"; {len(self.failed)} could not be read"
        if self.cancelled:
            text += "; cancelled, the rest is embedded by the next run"
        return text + "."


def model_key(name: str) -> str:
    """How a model is named in the database: catalog name, or a folder's absolute path."""
    path = Path(name).expanduser()
    return str(path.resolve()) if path.is_dir() else name


def default_model(project: Project, name: str | None = None) -> str | None:
    """`name`, else the model used last in this project, else None (the catalog default)."""
    if name:
        return name
    row = store.get_model(project.db)
    return row.name if row else None


def stored_model(project: Project, name: str | None = None) -> ModelRow:
    """The model whose vectors a search or scoring uses: `name`, or the one used last."""
    row = store.get_model(project.db, model_key(name) if name else None)
    if row is None or not row.vectors:
        which = f"model {name!r}" if name else "any model"
        raise CollectError(f"no image embeddings from {which} yet; run `mmstudio clip embed` first")
    return row


def encoder_for(row: ModelRow, encoder=None):
    from core.collect.encoder import load_encoder

    if encoder is None:
        return load_encoder(row.name)
    if encoder.key != row.name:
        raise CollectError(
            f"the loaded model is {encoder.key!r}, the vectors are from {row.name!r}"
        )
    return encoder


def load_images(
    project: Project,
    rows: Sequence[tuple[int, str, str]],
    max_pixels: int,
    pool: ThreadPoolExecutor,
) -> tuple[list[int], list, list[dict]]:
    """Decode (id, storage, path) rows: (ids, images, failures). Pillow decodes outside the
    GIL, so two threads keep the model busy."""

    def one(row):
        image_id, storage, path = row
        try:
            return image_id, open_rgb(project.resolve_media(storage, path), max_pixels), None
        except ImageProblem as exc:
            return (
                image_id,
                None,
                {"image_id": image_id, "reason": exc.reason, "detail": exc.detail},
            )

    ids, images, failed = [], [], []
    for image_id, img, problem in pool.map(one, rows):
        if problem:
            failed.append(problem)
        else:
            ids.append(image_id)
            images.append(img)
    return ids, images, failed


def embed_images(
    project: Project,
    model: str | None = None,
    *,
    domain: str | None = None,
    ids: Sequence[int] | None = None,
    force: bool = False,
    batch_size: int = BATCH,
    encoder=None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> EmbedSummary:
    """Embed the images (of `domain`, or `ids`) that have no vector from the model yet. Each
    batch commits on its own, so `cancel` (checked between batches) or a crash loses at most
    the batch in hand."""
    from core.collect.encoder import load_encoder

    enc = encoder or load_encoder(default_model(project, model))
    db = project.db
    row = store.register_model(db, enc.key, enc.dim)
    todo = store.images_to_embed(db, row, domain, ids, force)
    scope = len(store.images_to_embed(db, row, domain, ids, force=True))
    summary = EmbedSummary(row.name, row.dim, already=scope - len(todo))
    max_pixels = int(project.settings()["max_image_pixels"])
    if progress:
        progress(0, len(todo))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="decode") as pool:
        for start in range(0, len(todo), batch_size):
            if cancel is not None and cancel.is_set():
                summary.cancelled = True
                break
            chunk = todo[start : start + batch_size]
            got_ids, images, failed = load_images(project, chunk, max_pixels, pool)
            summary.failed += failed
            if images:
                store.write_vectors(db, row, got_ids, enc.encode_images(images))
                summary.embedded += len(got_ids)
            if progress:
                progress(start + len(chunk), len(todo))
    return summary


def forget_model(project: Project, name: str) -> dict:
    """Delete a model's vectors, relevance scores and duplicate groups (the images stay)."""
    row = store.get_model(project.db, model_key(name))
    if row is None:
        raise CollectError(f"no embeddings from model {name!r} in this project")
    store.forget_model(project.db, row)
    return {"forgotten": row.name, "vectors": row.vectors}
