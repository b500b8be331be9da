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
    from core.store.pipeline import select_images

    if not instructions:
        chosen = select_images(db, opts.domain, opts.limit, ids=opts.image_ids)
        return Changes.of(img.id for img in chosen)
    # Ids only, as two int64 columns: reading the selection's rows whole (a check of 3,000
    # images: 39,000 rows with their text, one fetchall) held the GIL ~100 ms in the job's
    # thread after the run, a stall of the window; at 1M items it was seconds.
    where, params = "true", []
    if opts.image_ids is not None:
        where += " AND list_contains(?, n.image_id)"
        params.append(list(opts.image_ids))
    if opts.domain:
        where += " AND n.image_id IN (SELECT id FROM images WHERE domain = ?)"
        params.append(opts.domain)
    limit = "" if opts.limit is None else f" LIMIT {max(int(opts.limit), 0)}"  # as check limits
    got = (
        db.cursor()
        .execute(
            f"WITH chosen AS (SELECT DISTINCT n.image_id FROM instructions n WHERE {where} "
            f"ORDER BY 1{limit}) SELECT n.id, n.image_id FROM instructions n "
            "WHERE n.image_id IN (SELECT image_id FROM chosen)",
            params,
        )
        .fetchnumpy()
    )
    return Changes(_ids(got["image_id"]), _ids(got["id"]))


SLICE = 50_000  # ids turned into Python ints per call: each call holds the GIL


def _ids(values) -> frozenset[int]:
    """A frozenset of an int64 array's values, built a slice at a time so other threads (the
    window's) get the GIL between slices; a million ids in one call held it ~100 ms."""
    out: set[int] = set()
    for start in range(0, len(values), SLICE):
        out.update(values[start : start + SLICE].tolist())
    return frozenset(out)


def instruction_images(db: Database, instruction_ids) -> set[int]:
    ids = sorted(set(instruction_ids))
    if not ids:
        return set()
    rows = db.fetchall(
        "SELECT DISTINCT image_id FROM instructions WHERE id IN (SELECT unnest(?))", [ids]
    )
    return {r[0] for r in rows}
