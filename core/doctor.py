"""`mmstudio doctor`: does the project still agree with itself?

Checks, in order: DuckDB's own integrity (every block of every table read, so its checksums
are verified); every image row has its media file, with the right sha256; every thumbnail is
there; files in media/ and thumbs/ that no row names (orphans); job items a dead process left
`running`. `fix=True` re-makes missing thumbnails, moves orphans into `trash/<time>/` (never
deletes them) and puts stuck items back to pending. The quick variant (what the desktop runs
on open) only stats files: no integrity read, no hashing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.project import Project
from core.store import health
from core.store import jobs as jobs_store
from core.store.damage import problem_of

SAMPLES = 50  # paths listed per problem kind; counts are always complete
TRASH = "trash"
_HASH_CHUNK = 1 << 20


@dataclass
class Finding:
    count: int = 0
    samples: list = field(default_factory=list)

    def add(self, sample) -> None:
        self.count += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(sample)

    def to_json(self) -> dict:
        return {"count": self.count, "samples": self.samples}


@dataclass
class DoctorReport:
    project: str
    quick: bool
    fix: bool
    integrity: dict = field(default_factory=dict)
    images: int = 0
    missing_media: Finding = field(default_factory=Finding)
    wrong_sha256: Finding = field(default_factory=Finding)
    missing_thumbs: Finding = field(default_factory=Finding)
    thumbs_remade: int = 0
    orphan_media: Finding = field(default_factory=Finding)
    orphan_thumbs: Finding = field(default_factory=Finding)
    trash: str | None = None
    stuck_jobs: list[int] = field(default_factory=list)
    stuck_items: int = 0
    items_reset: int = 0

    @property
    def problems(self) -> int:
        """Problems still there after any fixes."""
        left = (
            self.missing_media.count
            + self.wrong_sha256.count
            + (self.missing_thumbs.count - self.thumbs_remade)
            + (0 if self.trash else self.orphan_media.count + self.orphan_thumbs.count)
            + (0 if self.fix else self.stuck_items + len(self.stuck_jobs))
        )
        return left + (0 if self.integrity.get("ok", True) else 1)

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def to_json(self) -> dict:
        return {
            "project": self.project,
            "quick": self.quick,
            "fix": self.fix,
            "ok": self.ok,
            "problems": self.problems,
            "integrity": self.integrity,
            "images": self.images,
            "missing_media": self.missing_media.to_json(),
            "wrong_sha256": self.wrong_sha256.to_json(),
            "missing_thumbnails": self.missing_thumbs.to_json() | {"remade": self.thumbs_remade},
            "orphan_media": self.orphan_media.to_json(),
            "orphan_thumbnails": self.orphan_thumbs.to_json(),
            "trash": self.trash,
            "stuck_jobs": {
                "jobs": self.stuck_jobs,
                "items": self.stuck_items,
                "reset": self.items_reset,
            },
        }

    def describe(self) -> str:
        lines = [f"{self.project}: {self.images} images"]
        integ = self.integrity
        if integ.get("checked"):
            state = "ok" if integ["ok"] else f"DAMAGED: {integ['problem']}"
            lines.append(
                f"  database: {integ['tables']} tables, {integ['rows']} rows read, {state}"
            )
        for label, finding in (
            ("missing media files", self.missing_media),
            ("media files whose sha256 differs", self.wrong_sha256),
            ("missing thumbnails", self.missing_thumbs),
            ("orphan media files", self.orphan_media),
            ("orphan thumbnails", self.orphan_thumbs),
        ):
            if finding.count:
                lines.append(f"  {label}: {finding.count}")
                lines.extend(f"    {s}" for s in finding.samples[:10])
        if self.thumbs_remade:
            lines.append(f"  thumbnails re-made: {self.thumbs_remade}")
        if self.trash:
            lines.append(f"  orphans moved to {self.trash}")
        if self.stuck_items or self.stuck_jobs:
            verb = "reset" if self.fix else "found"
            lines.append(
                f"  stuck from a dead process ({verb}): {len(self.stuck_jobs)} jobs, "
                f"{self.stuck_items} items"
            )
        if not self.ok and not self.fix:
            lines.append("  run with --fix to repair what can be repaired")
        lines.append("OK" if self.ok else f"{self.problems} problems")
        return "\n".join(lines)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _files_under(folder: Path) -> list[str]:
    """Paths of regular files under `folder`, relative to its parent (the project)."""
    out = []
    base = folder.parent
    for dirpath, _dirs, files in os.walk(folder):
        rel = os.path.relpath(dirpath, base)
        out.extend(os.path.join(rel, f).replace(os.sep, "/") for f in files)
    return out


def _to_trash(project: Project, rels: list[str], trash: Path) -> None:
    for rel in rels:
        dest = trash / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(project.root / rel), dest)


def check(project: Project, *, fix: bool = False, quick: bool = False) -> DoctorReport:
    report = DoctorReport(str(project.root), quick=quick, fix=fix)
    db = project.db
    if not quick:
        try:
            tables, rows = health.integrity_scan(db)
            report.integrity = {"checked": True, "ok": True, "tables": tables, "rows": rows}
        except Exception as exc:
            problem = problem_of(exc)
            if problem is None:
                raise
            from core.store.damage import damaged

            report.integrity = {
                "checked": True,
                "ok": False,
                "problem": problem,
                "message": str(damaged(db.path, problem)),
            }
            return report  # the rest would read the same damaged blocks
    else:
        report.integrity = {"checked": False}
    from core.library.worker import existing_thumb

    rows = health.image_files(db)
    report.images = len(rows)
    settings = project.settings()
    remade: list[tuple[int, str]] = []
    media_named, thumbs_named = set(), set()
    for image_id, sha, storage, path, thumb in rows:
        media = project.resolve_media(storage, path)
        if storage == "copy":
            media_named.add(path)
        written = None if thumb else existing_thumb(str(project.root), sha)
        if written:
            remade.append((image_id, written))  # written, never recorded
            thumb = written
        if thumb:
            thumbs_named.add(thumb)
        media_ok = media.is_file()
        if not media_ok:
            report.missing_media.add({"id": image_id, "path": str(media)})
        elif not quick and sha256_of(media) != sha:
            report.wrong_sha256.add({"id": image_id, "path": str(media)})
            media_ok = False
        if thumb and (project.root / thumb).is_file():
            continue
        report.missing_thumbs.add({"id": image_id, "thumb": thumb})
        if fix and media_ok:
            rel = _remake(project, sha, media, settings)
            if rel:
                thumbs_named.add(rel)
                remade.append((image_id, rel))
    if remade and fix:
        health.set_thumbs(db, remade)
    report.thumbs_remade = len(remade) if fix else 0
    orphans_m = [r for r in _files_under(project.media_dir) if r not in media_named]
    orphans_t = [r for r in _files_under(project.thumbs_dir) if r not in thumbs_named]
    for rel in orphans_m:
        report.orphan_media.add(rel)
    for rel in orphans_t:
        report.orphan_thumbs.add(rel)
    if fix and (orphans_m or orphans_t):
        trash = project.root / TRASH / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        _to_trash(project, orphans_m + orphans_t, trash)
        report.trash = str(trash)
    report.stuck_jobs, report.stuck_items = health.stuck_jobs(db)
    if fix and (report.stuck_jobs or report.stuck_items):
        report.items_reset = health.reset_stuck_items(db)
        jobs_store.recover_all(db)
    return report


def _remake(project: Project, sha: str, media: Path, settings: dict) -> str | None:
    from core.library.limits import Reject
    from core.library.worker import remake_thumbnail

    try:
        return remake_thumbnail(
            str(project.root),
            sha,
            str(media),
            settings["thumbnail_size"],
            settings["max_image_pixels"],
        )
    except (Reject, OSError):
        return None
