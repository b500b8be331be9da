"""Download a list of URLs, import the files through the library importer (the same safety
checks as a file import), then record where each image came from.

The importer sees temporary files; afterwards their paths in image_sources and rejected are
replaced by the URLs, and downloads that failed are added to the batch's rejected rows, so
the batch tells the whole story in the user's terms.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.collect.download import Downloader, DownloadPolicy, Fetched
from core.collect.urllist import UrlItem
from core.library.importer import ImportSummary, import_paths
from core.project import Project
from core.store import collect as store

Progress = Callable[[int, int], None]


@dataclass
class CollectSummary:
    origin: str
    domain: str | None
    requested: int = 0
    skipped_known: int = 0
    downloaded: int = 0
    failed: list[dict] = field(default_factory=list)  # url, reason, detail
    imported: ImportSummary | None = None
    rejected: list[dict] = field(default_factory=list)  # importer rejections, by URL
    extra: dict = field(default_factory=dict)  # source-specific facts (queries, pages, ...)

    def to_json(self) -> dict:
        imp = self.imported
        out = {
            "origin": self.origin,
            "domain": self.domain,
            "requested": self.requested,
            "skipped_known": self.skipped_known,
            "downloaded": self.downloaded,
            "failed": [dict(f) for f in self.failed],
            "imported": imp.imported if imp else 0,
            "duplicates": imp.duplicates if imp else 0,
            "near_duplicates": imp.near_duplicates if imp else 0,
            "rejected": [dict(r) for r in self.rejected],
            "batch_id": imp.batch_id if imp else None,
        }
        out.update(self.extra)
        return out

    def describe(self) -> str:
        imp = self.imported
        text = (
            f"{self.requested} URL(s): {self.downloaded} downloaded, {len(self.failed)} failed"
            + (f", {self.skipped_known} already collected" if self.skipped_known else "")
            + "."
        )
        if self.failed:
            reasons: dict[str, int] = {}
            for f in self.failed:
                reasons[f["reason"]] = reasons.get(f["reason"], 0) + 1
            text += " Failures: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) + "."
        if imp is not None:
            text += " " + imp.describe()
        return text


def collect_items(
    project: Project,
    items: Sequence[UrlItem],
    *,
    domain: str | None,
    origin: str,
    policy: DownloadPolicy | None = None,
    skip_known: bool = True,
    workers: int | None = None,
    progress: Progress | None = None,
    extra: dict | None = None,
    cancel: threading.Event | None = None,
) -> CollectSummary:
    """Download `items`, import what arrived into `domain`, store provenance per image. With
    `cancel` set midway, what already arrived is still imported; the rest is listed as
    failed with reason `cancelled`."""
    summary = CollectSummary(origin, domain, requested=len(items), extra=dict(extra or {}))
    todo, seen = [], set()
    for item in items:
        if item.url and item.url in seen:
            summary.failed.append(_failure(item.url, "duplicate_url", "listed earlier"))
        else:
            seen.add(item.url)
            todo.append(item)
    if skip_known:
        known = store.known_urls(project.db, [i.url for i in todo if i.url])
        summary.skipped_known = sum(1 for i in todo if i.url in known)
        todo = [i for i in todo if i.url not in known]

    with tempfile.TemporaryDirectory(prefix="mmstudio-collect-") as tmp:
        fetched = Downloader(Path(tmp), policy).fetch_all(todo, progress, cancel)
        ok = [f for f in fetched if f.ok]
        summary.downloaded = len(ok)
        summary.failed += [_failure(f.item.url, f.reason, f.detail) for f in fetched if not f.ok]
        try:
            imported = import_paths(
                project,
                [Path(f.path) for f in ok],
                domain=domain,
                workers=workers if ok else 0,  # no decoder processes for an empty batch
                progress=progress,
            )
        except BaseException:
            # The importer keeps the chunks it wrote; keep their provenance too.
            finish_batch(project, None, ok, {}, [], origin)
            raise
        summary.imported = imported
        labels = {os.path.abspath(f.path): f.item.url for f in ok}
        summary.rejected = [
            {**r, "path": labels.get(r["path"], r["path"])} for r in imported.rejected
        ]
        finish_batch(project, imported.batch_id, ok, labels, summary.failed, origin)
    return summary


def finish_batch(
    project: Project,
    batch_id: int | None,
    fetched: Sequence[Fetched],
    labels: dict[str, str],
    failed: Sequence[dict],
    origin: str,
) -> dict[str, int]:
    """Relabel the batch's temporary paths, add download failures to its rejected rows, and
    record provenance for every fetched file that is now an image. Returns sha256 -> id."""
    db = project.db
    if batch_id is not None:
        store.relabel_batch(db, batch_id, labels)
        rows = [(f["url"], f["reason"], f["detail"]) for f in failed]
        store.add_rejections(db, batch_id, rows)
    ids = store.ids_by_sha(db, [f.sha256 for f in fetched if f.sha256])
    rows = []
    for f in fetched:
        image_id = ids.get(f.sha256)
        if image_id is None:
            continue  # the importer rejected it
        row = {
            "image_id": image_id,
            "origin": origin,
            "url": f.item.url,
            "title": f.item.title,
            "caption": f.item.caption,
            "batch_id": batch_id,
        }
        row.update(f.item.meta)
        rows.append(row)
    store.record_collected(db, rows)
    return ids


def _failure(url: str, reason: str | None, detail: str) -> dict:
    return {"url": url, "reason": reason or "unknown", "detail": detail}


def collect_url_list(
    project: Project,
    path: Path | str,
    *,
    domain: str | None = None,
    policy: DownloadPolicy | None = None,
    skip_known: bool = True,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CollectSummary:
    """Import the images a URL list (txt, csv, tsv, parquet) points at, keeping each row's
    title and caption as prior text for captions."""
    from core.collect.urllist import read_url_list
    from core.domains import ensure_domain

    items = read_url_list(path)
    if domain:
        ensure_domain(project.db, domain)  # validates the name before anything is fetched
    return collect_items(
        project,
        items,
        domain=domain,
        origin="url_list",
        policy=policy,
        skip_known=skip_known,
        workers=workers,
        progress=progress,
        extra={"list": str(Path(path).resolve())},
        cancel=cancel,
    )
