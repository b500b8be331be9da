"""Expand a domain from a local pool: the paper's kNN retrieval step, done on this machine.

For each seed image of the domain the k most similar pool images (optionally above a minimum
similarity) are selected; the union is imported into the domain with the seed that found each
one and its similarity, and their vectors are stored so they are searchable at once.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.collect.download import DownloadPolicy
from core.collect.embed import default_model, embed_images
from core.collect.errors import CollectError
from core.collect.imageio import ImageProblem, open_rgb
from core.collect.pool import PoolItem, read_pool
from core.library.importer import ImportSummary, import_paths
from core.project import Project
from core.store import collect as cstore
from core.store import embeddings as store

Progress = Callable[[int, int], None]


@dataclass
class ExpandSummary:
    domain: str
    model: str
    seeds: list[int]
    k: int
    min_score: float | None
    pool: int = 0
    already_in_project: int = 0
    pool_failed: list[dict] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)  # source, score, seed_id
    imported: ImportSummary | None = None
    dry_run: bool = False

    def to_json(self) -> dict:
        imp = self.imported
        return {
            "domain": self.domain,
            "model": self.model,
            "seeds": self.seeds,
            "k": self.k,
            "min_score": self.min_score,
            "pool": self.pool,
            "already_in_project": self.already_in_project,
            "pool_failed": [dict(f) for f in self.pool_failed],
            "candidates": [dict(c) for c in self.candidates],
            "dry_run": self.dry_run,
            "imported": imp.imported if imp else 0,
            "duplicates": imp.duplicates if imp else 0,
            "near_duplicates": imp.near_duplicates if imp else 0,
            "rejected": [dict(r) for r in imp.rejected] if imp else [],
            "batch_id": imp.batch_id if imp else None,
        }

    def describe(self) -> str:
        text = (
            f"{len(self.candidates)} of {self.pool} pool image(s) are among the {self.k} nearest "
            f"of {len(self.seeds)} seed(s)"
        )
        if self.already_in_project:
            text += f" ({self.already_in_project} already in the project were skipped)"
        text += "."
        if self.pool_failed:
            text += f" {len(self.pool_failed)} pool item(s) could not be used."
        if self.imported is not None:
            text += " " + self.imported.describe()
        return text


def choose_seeds(project: Project, domain: str, seeds: Sequence[int] | None) -> list[int]:
    """The given ids (checked), or the domain's accepted images."""
    if seeds:
        ids = list(dict.fromkeys(int(s) for s in seeds))
        missing = sorted(set(ids) - set(cstore.image_files(project.db, ids)))
        if missing:
            raise CollectError(f"no image with id {', '.join(map(str, missing))}")
        return ids
    ids = cstore.domain_image_ids(project.db, domain, status="accepted")
    if not ids:
        raise CollectError(
            f"domain {domain!r} has no accepted images to use as seeds; accept some or pass --seeds"
        )
    return ids


def select_neighbours(
    sims: np.ndarray, k: int, min_score: float | None
) -> dict[int, tuple[float, int]]:
    """pool index -> (similarity, seed column) for the union of each seed's k nearest."""
    chosen: dict[int, tuple[float, int]] = {}
    n = sims.shape[0]
    for col in range(sims.shape[1]):
        column = sims[:, col]
        top = np.argsort(-column, kind="stable")[: min(k, n)]
        for idx in top.tolist():
            score = float(column[idx])
            if min_score is not None and score < min_score:
                break
            if idx not in chosen or score > chosen[idx][0]:
                chosen[idx] = (score, col)
    return chosen


def _embed_pool(
    items: list[PoolItem], encoder, max_pixels: int, batch_size: int, progress: Progress | None
) -> tuple[list[PoolItem], np.ndarray, list[dict]]:
    kept, vecs, failed = [], [], []

    def one(item):
        try:
            return item, open_rgb(item.path, max_pixels), None
        except ImageProblem as exc:
            return item, None, {"label": item.label, "reason": exc.reason, "detail": exc.detail}

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="decode") as pool:
        for start in range(0, len(items), batch_size):
            got = list(pool.map(one, items[start : start + batch_size]))
            failed += [p for _, _, p in got if p]
            ok = [(item, img) for item, img, p in got if not p]
            if ok:
                vecs.append(encoder.encode_images([img for _, img in ok]))
                kept += [item for item, _ in ok]
            if progress:
                progress(min(start + batch_size, len(items)), len(items))
    dim = encoder.dim
    return kept, (np.concatenate(vecs) if vecs else np.zeros((0, dim), np.float32)), failed


def expand_domain(
    project: Project,
    domain: str,
    pool: Path | str,
    *,
    seeds: Sequence[int] | None = None,
    k: int = 10,
    min_score: float | None = None,
    model: str | None = None,
    encoder=None,
    policy: DownloadPolicy | None = None,
    workers: int | None = None,
    dry_run: bool = False,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> ExpandSummary:
    from core.collect.encoder import load_encoder
    from core.domains import get_domain

    if not 1 <= int(k) <= 10_000:
        raise CollectError("k must be between 1 and 10000")
    db = project.db
    get_domain(db, domain)
    seed_ids = choose_seeds(project, domain, seeds)
    enc = encoder or load_encoder(default_model(project, model))
    row = store.register_model(db, enc.key, enc.dim)
    embed_images(project, ids=seed_ids, encoder=enc)
    got_ids, seed_vecs = store.load_vectors(db, row, ids=seed_ids)
    if not len(got_ids):
        raise CollectError("none of the seed images could be read")
    summary = ExpandSummary(
        domain, row.name, [int(i) for i in got_ids], int(k), min_score, dry_run=dry_run
    )
    max_pixels = int(project.settings()["max_image_pixels"])
    with tempfile.TemporaryDirectory(prefix="mmstudio-pool-") as tmp:
        found = read_pool(pool, Path(tmp), policy, progress)
        summary.pool_failed = found.failed
        known = cstore.ids_by_sha(db, [i.sha256 for i in found.items])
        fresh, seen = [], set()
        for item in found.items:
            if item.sha256 in known:
                summary.already_in_project += 1
            elif item.sha256 not in seen:
                seen.add(item.sha256)
                fresh.append(item)
        summary.pool = len(found.items) + len(found.failed)
        items, vecs, failed = _embed_pool(fresh, enc, max_pixels, batch_size, progress)
        summary.pool_failed += failed
        chosen = select_neighbours(vecs @ seed_vecs.T, int(k), min_score)
        order = sorted(chosen, key=lambda i: (-chosen[i][0], i))
        summary.candidates = [
            {
                "source": items[i].label,
                "score": round(chosen[i][0], 6),
                "seed_id": int(got_ids[chosen[i][1]]),
            }
            for i in order
        ]
        if dry_run:
            return summary
        picked = [items[i] for i in order]
        found = (picked, [chosen[i] for i in order], vecs[order], row, got_ids)
        try:
            summary.imported = import_paths(
                project,
                [Path(i.path) for i in picked],
                domain=domain,
                workers=workers if picked else 0,
                progress=progress,
            )
        except BaseException:
            record_pool_imports(
                project, None, *found
            )  # what the importer kept keeps its provenance
            raise
        record_pool_imports(project, summary.imported, *found)
    return summary


def record_pool_imports(
    project: Project,
    imported: ImportSummary | None,
    picked: list[PoolItem],
    scores,
    vecs,
    row,
    seed_ids,
) -> None:
    """Provenance and vectors of the picked images that are now in the project."""
    db = project.db
    batch_id = imported.batch_id if imported else None
    if imported is not None:
        labels = {os.path.abspath(i.path): i.label for i in picked if i.label != i.path}
        cstore.relabel_batch(db, imported.batch_id, labels)
        for r in imported.rejected:
            r["path"] = labels.get(r["path"], r["path"])
    ids = cstore.ids_by_sha(db, [i.sha256 for i in picked])
    rows, new_ids, new_vecs = [], [], []
    for item, (score, col), vec in zip(picked, scores, vecs, strict=True):
        image_id = ids.get(item.sha256)
        if image_id is None:
            continue  # rejected by the importer
        rows.append(
            {
                "image_id": image_id,
                "origin": "expand",
                "url": item.url,
                "title": item.title,
                "caption": item.caption,
                "seed_image_id": int(seed_ids[col]),
                "score": score,
                "batch_id": batch_id,
            }
        )
        new_ids.append(image_id)
        new_vecs.append(vec)
    cstore.record_collected(db, rows)
    if new_ids:
        store.write_vectors(db, row, new_ids, np.stack(new_vecs))
