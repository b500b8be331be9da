"""Read-only counts for `mmstudio stats` and the GUI's sidebar."""

from __future__ import annotations

from core.store.db import Database
from core.store.pipeline_metrics import pipeline_metrics
from core.store.quality import risk_counts

DEFAULT_RISK_THRESHOLD = 0.5


def image_count(db: Database) -> int:
    return db.scalar("SELECT count(*) FROM images")


def library_stats(db: Database, risk_threshold: float = DEFAULT_RISK_THRESHOLD) -> dict:
    by_domain: dict[str, dict] = {}
    for domain, status, n in db.fetchall(
        "SELECT coalesce(domain, ''), status, count(*) FROM images GROUP BY ALL ORDER BY ALL"
    ):
        entry = by_domain.setdefault(domain, {"images": 0, "by_status": {}})
        entry["images"] += n
        entry["by_status"][status] = n
    for domain, itype, status, n in db.fetchall(
        "SELECT coalesce(i.domain, ''), n.itype, n.status, count(*) "
        "FROM instructions n JOIN images i ON i.id = n.image_id GROUP BY ALL ORDER BY ALL"
    ):
        entry = by_domain.setdefault(domain, {"images": 0, "by_status": {}})
        types = entry.setdefault("instructions", {})
        types.setdefault(itype, {})[status] = n
    return {
        "images": db.scalar("SELECT count(*) FROM images"),
        "sources": db.scalar("SELECT count(*) FROM image_sources"),
        "near_duplicate_groups": db.scalar(
            "SELECT count(DISTINCT near_dup_group) FROM images WHERE near_dup_group IS NOT NULL"
        ),
        "rejected": db.scalar("SELECT count(*) FROM rejected"),
        "captions": db.scalar("SELECT count(*) FROM captions WHERE is_current"),
        "instructions": db.scalar("SELECT count(*) FROM instructions"),
        "by_domain": by_domain,
        "pipeline": pipeline_metrics(db),
        "risk": {"threshold": risk_threshold, "by_domain": risk_counts(db, risk_threshold)},
    }
