"""Which rows a job touched (core.changes.Changes), read from its items and its outputs."""

from __future__ import annotations

from core.changes import Changes
from core.store.db import Database


def job_changes(db: Database, job_id: int) -> Changes:
    """Images and instructions a job's done items name (payload `image_id` / `id`), the
    instructions and captions it wrote (their job_id), and those instructions' images."""
    named = db.fetchall(
        "SELECT TRY_CAST(json_extract_string(payload, '$.image_id') AS BIGINT), "
        "TRY_CAST(json_extract_string(payload, '$.id') AS BIGINT) "
        "FROM job_items WHERE job_id = ? AND state = 'done'",
        [job_id],
    )
    images = {i for i, _ in named if i is not None}
    items = {n for _, n in named if n is not None}
    written = db.fetchall(
        "SELECT id, image_id FROM instructions WHERE job_id = ? OR id IN (SELECT unnest(?))",
        [job_id, sorted(items)],
    )
    items |= {r[0] for r in written}
    images |= {r[1] for r in written}
    images |= {
        r[0] for r in db.fetchall("SELECT image_id FROM captions WHERE job_id = ?", [job_id])
    }
    return Changes.of(images, items)


def selection_changes(db: Database, opts, instructions: bool = False) -> Changes:
    """The images (and, with `instructions`, their items) a direct run over `opts`'s selection
    (domain, image ids, limit) worked on."""
    from core.store.pipeline import select_images, select_instructions

    if not instructions:
        chosen = select_images(db, opts.domain, opts.limit, ids=opts.image_ids)
        return Changes.of(img.id for img in chosen)
    rows = select_instructions(db, domain=opts.domain, image_ids=opts.image_ids)
    images = list(dict.fromkeys(r.image_id for r in rows))[: opts.limit]  # as check limits
    kept = set(images)
    return Changes.of(images, [r.id for r in rows if r.image_id in kept])


def instruction_images(db: Database, instruction_ids) -> set[int]:
    ids = sorted(set(instruction_ids))
    if not ids:
        return set()
    rows = db.fetchall(
        "SELECT DISTINCT image_id FROM instructions WHERE id IN (SELECT unnest(?))", [ids]
    )
    return {r[0] for r in rows}
