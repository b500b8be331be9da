"""Import image files, folders and zip archives into a project.

The parent process scans the inputs, hands each file to worker processes (read, sha256,
decode once, thumbnail, pHash, media copy) and receives plain metadata back in input order.
It alone decides what is new, an exact duplicate or a near duplicate, and writes the rows in
transactions of CHUNK outcomes, so a crash leaves whole chunks or nothing.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.changes import Changes
from core.errors import ProjectError
from core.library import worker
from core.library.limits import ACCEPTED_FORMATS
from core.library.neardup import PhashIndex
from core.library.pool import OrderedPool, default_workers, prestart
from core.library.scan import Task, scan_inputs
from core.project import Project
from core.store import images as store

CHUNK = 256  # outcomes per transaction: few commits, little lost work on a crash


@dataclass
class ImportSummary:
    batch_id: int
    domain: str | None = None
    imported: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    ignored: int = 0
    rejected: list[dict] = field(default_factory=list)
    image_ids: list[int] = field(default_factory=list)  # the new images (not in --json)

    def changes(self) -> Changes:
        """The new image rows, for a front-end that refreshes only what changed."""
        return Changes.of(self.image_ids, added=bool(self.image_ids))

    def to_json(self) -> dict:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "near_duplicates": self.near_duplicates,
            "rejected": [dict(r) for r in self.rejected],
            "ignored": self.ignored,
            "batch_id": self.batch_id,
        }

    def counts(self) -> dict:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "near_duplicates": self.near_duplicates,
            "rejected": len(self.rejected),
            "ignored": self.ignored,
        }

    def describe(self) -> str:
        where = f" into domain {self.domain!r}" if self.domain else ""
        text = (
            f"Imported {self.imported} image{'s' * (self.imported != 1)}{where}: "
            f"{self.duplicates} exact duplicate(s), {self.near_duplicates} near duplicate(s), "
            f"{len(self.rejected)} rejected"
        )
        if self.ignored:
            text += f", {self.ignored} system file(s) ignored"
        if self.rejected:
            reasons: dict[str, int] = {}
            for r in self.rejected:
                reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
            text += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) + ")"
        return text + "."


def import_paths(
    project: Project,
    paths: list[Path],
    domain: str | None = None,
    reference: bool = False,
    near_threshold: int | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import `paths` (files, folders, .zip archives). Never raises for a bad file: each one
    ends up in the summary's `rejected` list and the `rejected` table with a reason code."""
    settings = project.settings()
    threshold = settings["near_duplicate_threshold"] if near_threshold is None else near_threshold
    copy = not (reference or settings.get("storage") == "reference")
    workers = default_workers() if workers is None else workers
    prestart(workers)
    db = project.db
    if domain:
        store.ensure_domain(db, domain)
    _remove_stale_temp(project.root)

    scan = scan_inputs(list(paths), skip_dirs=(project.root,))
    options = {
        "paths": [os.path.abspath(p) for p in paths],
        "storage": "copy" if copy else "reference",
        "near_threshold": threshold,
        "workers": workers,
        "thumbnail_size": settings["thumbnail_size"],
        "max_image_pixels": settings["max_image_pixels"],
        "formats": list(ACCEPTED_FORMATS),
    }
    batch_id = store.start_batch(db, domain, options)
    run = _Run(project, batch_id, domain, threshold, copy)
    run.summary.ignored = len(scan.ignored)
    for r in scan.rejected:
        run.reject(r.path, r.reason, r.detail)

    config = worker.WorkerConfig(
        root=str(project.root),
        thumb_size=int(settings["thumbnail_size"]),
        max_pixels=int(settings["max_image_pixels"]),
        copy=copy,
        known=store.known_sha_prefixes(db),
    )
    pool = OrderedPool(worker.process, worker.crashed, workers, worker.init_worker, (config,))
    total = len(scan.tasks)
    if progress:
        progress(0, total)
    try:
        for done, (task, outcome) in enumerate(pool.run(scan.tasks), 1):
            run.handle(task, outcome, config)
            if progress:
                progress(done, total)
    finally:
        run.flush()  # what was decided is kept, even when interrupted
    store.finish_batch(db, batch_id, run.summary.counts())
    return run.summary


class _Run:
    """The parent's bookkeeping for one batch: decisions, pending rows, the summary."""

    def __init__(self, project: Project, batch_id: int, domain, threshold: int, copy: bool):
        self.db = project.db
        self.batch_id, self.domain = batch_id, domain
        self.threshold, self.copy = threshold, copy
        self.summary = ImportSummary(batch_id, domain)
        self.index = PhashIndex(*store.phash_table(self.db))
        self.batch_sha: dict[str, int] = {}  # content seen in this batch -> image id
        self.seen_sources: set[tuple[int, str]] = set()
        self.free_ids: list[int] = []
        self.chunk = self._new_chunk()

    @staticmethod
    def _new_chunk() -> store.ImportChunk:
        return store.ImportChunk([], [], [], [], [])

    def reject(self, path: str, reason: str, detail: str) -> None:
        self.summary.rejected.append({"path": path, "reason": reason, "detail": detail})
        self.chunk.rejected.append((path, reason, detail))
        self._maybe_flush()

    def handle(self, task: Task, out: worker.Outcome, config: worker.WorkerConfig) -> None:
        if out.fatal:
            self.flush()
            raise ProjectError(f"import stopped at {task.label}: {out.fatal}")
        if out.reason:
            self.reject(task.label, out.reason, out.detail)
            return
        existing = self.batch_sha.get(out.sha256)
        if existing is None and out.known:
            existing = store.image_id_by_sha(self.db, out.sha256)
            if existing is None:
                # Files left by an interrupted import, or a 64-bit prefix shared with another
                # image: rare enough to decode here rather than queue again.
                worker.init_worker(config)
                return self.handle(task, worker.process(task, force=True), config)
        if existing is not None:
            self._duplicate(existing, task.label, in_db=out.known)
        else:
            self._new_image(task, out)
        self._maybe_flush()

    def _duplicate(self, image_id: int, label: str, in_db: bool) -> None:
        self.summary.duplicates += 1
        self._source(image_id, label)
        if in_db and self.domain:
            self.chunk.domain_fill.append(image_id)

    def _source(self, image_id: int, label: str) -> None:
        if (image_id, label) not in self.seen_sources:
            self.seen_sources.add((image_id, label))
            self.chunk.sources.append((image_id, label))

    def _new_image(self, task: Task, out: worker.Outcome) -> None:
        if not self.free_ids:
            self.free_ids = store.allocate_image_ids(self.db, CHUNK)[::-1]
        image_id = self.free_ids.pop()
        group = None
        pos = self.index.nearest(out.phash, self.threshold)
        if pos is not None:
            group = self.index.group_at(pos)
            if group is None:
                group = self.index.id_at(pos)
                self.index.set_group(pos, group)
                self.chunk.group_roots.append(group)
            self.summary.near_duplicates += 1
        self.index.add(image_id, out.phash, group)
        self.batch_sha[out.sha256] = image_id
        if out.copied:
            storage, path = "copy", worker.media_relpath(out.sha256, out.ext)
        else:
            storage, path = "reference", os.path.realpath(task.path)
        self.chunk.images.append(
            {
                "id": image_id,
                "sha256": out.sha256,
                "phash": out.phash,
                "width": out.width,
                "height": out.height,
                "format": out.format,
                "mode": out.mode,
                "n_frames": out.n_frames,
                "bytes": out.bytes,
                "exif_orientation": out.orientation,
                "domain": self.domain,
                "storage": storage,
                "path": path,
                "thumb": worker.thumb_relpath(out.sha256, out.thumb_ext),
                "near_dup_group": group,
                "batch_id": self.batch_id,
            }
        )
        self.summary.imported += 1
        self.summary.image_ids.append(image_id)
        self._source(image_id, task.label)

    def _maybe_flush(self) -> None:
        if len(self.chunk) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if len(self.chunk) or self.chunk.group_roots or self.chunk.domain_fill:
            chunk, self.chunk = self.chunk, self._new_chunk()
            store.write_import_chunk(self.db, self.batch_id, self.domain, chunk)


def _remove_stale_temp(root: Path) -> None:
    # Temp files of a crashed import. Safe: the DuckDB lock means no other import writes here.
    for sub in ("media", "thumbs"):
        for tmp in glob.glob(os.path.join(glob.escape(str(root / sub)), "*", "*.tmp")):
            try:
                os.unlink(tmp)
            except OSError:
                pass
