"""The Batch API side of a job: its mode, the batches it sent, and the items out in each.

An item out in a batch stays `pending` with `batch_ref` set, so the live engine never claims
it and a crash never loses it: a resumed job polls the batch instead of asking again.
"""

from __future__ import annotations

import json

from core.store.db import Database
from core.store.jobs import JobItem

TERMINAL = ("completed", "failed", "expired", "cancelled")
EXPIRY_CHOICES = ("batch", "live")
_COLS = (
    "id job_id token batch_id input_file_id n_requests n_bytes status settled message "
    "created_at settled_at reserved_usd"
).split()


def batch_mode(db: Database, job_id: int) -> tuple[bool | None, str | None]:
    row = db.fetchone("SELECT use_batch, batch_on_expiry FROM jobs WHERE id = ?", [job_id])
    return (row[0], row[1]) if row else (None, None)


def set_batch_mode(db: Database, job_id: int, use_batch: bool, on_expiry: str | None) -> None:
    with db.tx() as cur:
        cur.execute(
            "UPDATE jobs SET use_batch = ?, batch_on_expiry = coalesce(?, batch_on_expiry) "
            "WHERE id = ?",
            [use_batch, on_expiry, job_id],
        )


def add_batch(
    db: Database,
    job_id: int,
    token: str,
    input_file_id: str,
    n_bytes: int,
    keys: list[str],
    reserved_usd: float = 0.0,
) -> int:
    """Record a batch about to be created and tie its items to it, in one transaction.
    `reserved_usd`: the most it can cost, held against the budget until it is settled."""
    with db.tx() as cur:
        ref = cur.execute(
            "INSERT INTO job_batches (job_id, token, input_file_id, n_requests, n_bytes, "
            "reserved_usd) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [job_id, token, input_file_id, len(keys), n_bytes, reserved_usd],
        ).fetchone()[0]
        cur.execute(
            "UPDATE job_items SET state = 'pending', batch_ref = ?, updated_at = current_timestamp "
            "WHERE job_id = ? AND list_contains(?::VARCHAR[], item_key)",
            [ref, job_id, keys],
        )
    return ref


def set_batch_id(db: Database, ref: int, batch_id: str, status: str) -> None:
    with db.tx() as cur:
        cur.execute(
            "UPDATE job_batches SET batch_id = ?, status = ? WHERE id = ?", [batch_id, status, ref]
        )


def set_batch_status(db: Database, ref: int, status: str, message: str | None = None) -> None:
    with db.tx() as cur:
        cur.execute(
            "UPDATE job_batches SET status = ?, message = coalesce(?, message) WHERE id = ?",
            [status, message, ref],
        )


def drop_batch(db: Database, ref: int) -> int:
    """A batch that was never created: its items go back to the queue. Returns how many."""
    with db.tx() as cur:
        n = release(cur, ref)
        cur.execute("DELETE FROM job_batches WHERE id = ?", [ref])
    return n


def release(cur, ref: int) -> int:
    """Inside a transaction: the items of `ref` still unanswered go back to the queue."""
    n = cur.execute(
        "SELECT count(*) FROM job_items WHERE batch_ref = ? AND state = 'pending'", [ref]
    ).fetchone()[0]
    cur.execute(
        "UPDATE job_items SET batch_ref = NULL, updated_at = current_timestamp "
        "WHERE batch_ref = ? AND state = 'pending'",
        [ref],
    )
    return n


def settle_batch(db: Database, ref: int, status: str, message: str | None = None) -> int:
    """Mark a batch settled (after its results are committed); unanswered items are requeued.
    Returns how many went back to the queue."""
    with db.tx() as cur:
        n = release(cur, ref)
        cur.execute(
            "UPDATE job_batches SET status = ?, settled = true, message = coalesce(?, message), "
            "settled_at = current_timestamp WHERE id = ?",
            [status, message, ref],
        )
    return n


def requeue(db: Database, job_id: int, retries: list[tuple[str, int]]) -> None:
    """Items a batch answered badly but that have attempts left: back to the queue."""
    if not retries:
        return
    with db.tx() as cur:
        cur.execute(
            "UPDATE job_items AS j SET state = 'pending', batch_ref = NULL, attempts = v.a, "
            "updated_at = current_timestamp FROM (SELECT unnest(?::VARCHAR[]) AS k, "
            "unnest(?::INTEGER[]) AS a) AS v WHERE j.job_id = ? AND j.item_key = v.k",
            [[k for k, _ in retries], [a for _, a in retries], job_id],
        )


def open_batches(db: Database, job_id: int) -> list[dict]:
    rows = db.fetchall(
        f"SELECT {', '.join(_COLS)} FROM job_batches WHERE job_id = ? AND NOT settled ORDER BY id",
        [job_id],
    )
    return [dict(zip(_COLS, r, strict=True)) for r in rows]


def reserved_usd(db: Database, job_id: int) -> float:
    """What the batches still out may yet cost (their unsettled reservations)."""
    return float(
        db.scalar(
            "SELECT coalesce(sum(reserved_usd), 0) FROM job_batches "
            "WHERE job_id = ? AND NOT settled",
            [job_id],
        )
    )


def job_batches(db: Database, job_id: int) -> list[dict]:
    rows = db.fetchall(
        f"SELECT {', '.join(_COLS)} FROM job_batches WHERE job_id = ? ORDER BY id", [job_id]
    )
    return [dict(zip(_COLS, r, strict=True)) for r in rows]


def has_expired(db: Database, job_id: int) -> bool:
    return bool(
        db.scalar(
            "SELECT count(*) FROM job_batches WHERE job_id = ? AND status = 'expired'", [job_id]
        )
    )


def batch_items(db: Database, ref: int) -> list[JobItem]:
    """The items of a batch still waiting for its answer."""
    rows = db.fetchall(
        "SELECT job_id, item_key, seq, payload, attempts FROM job_items "
        "WHERE batch_ref = ? AND state = 'pending' ORDER BY seq",
        [ref],
    )
    return [JobItem(j, k, s, json.loads(p) if p else None, a) for j, k, s, p, a in rows]


def jobs_with_open_batches(db: Database) -> list[int]:
    """Jobs with a batch still out: the app polls them when a project opens."""
    return [
        r[0]
        for r in db.fetchall(
            "SELECT DISTINCT job_id FROM job_batches WHERE NOT settled ORDER BY job_id"
        )
    ]
