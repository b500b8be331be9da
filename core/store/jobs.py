"""Typed queries for the job engine: jobs, their items, the result cache and the request log.

Item states: pending -> running -> done | failed. Writers batch many items per statement
(lists unnested server-side), because one transaction per item would cap a job far below
what a fast server can answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from core.errors import StudioError
from core.store.db import Database
from core.vocab import ITEM_STATES, JOB_STATES


class JobError(StudioError):
    pass


@dataclass
class JobItem:
    job_id: int
    key: str
    seq: int
    payload: dict | None
    attempts: int = 0


@dataclass
class ItemOutcome:
    """What the writer records for one finished item."""

    key: str
    state: str  # done | failed
    attempts: int
    reason: str | None = None
    error: str | None = None
    request_key: str | None = None
    cached: bool = False
    cost_usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class RequestRow:
    job_id: int | None
    item_key: str | None
    attempt: int
    backend: str | None
    model: str | None
    prompt_hash: str | None
    started_at: float  # unix seconds
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    n_images: int
    cost_usd: float
    outcome: str  # ok | error | cached | bad_output
    error_class: str | None = None
    http_status: int | None = None
    error: str | None = None
    batch: bool = False  # answered through the Batch API (priced at its rate)


# jobs ------------------------------------------------------------------------------------
def create_job(
    db: Database,
    stage: str,
    items: Iterable[tuple[str, dict | None] | str],
    backend: str | None = None,
    model: str | None = None,
    params: dict | None = None,
    budget_usd: float | None = None,
    max_attempts: int = 4,
) -> int:
    keys, payloads = [], []
    for entry in items:
        key, payload = (entry, None) if isinstance(entry, str) else entry
        keys.append(str(key))
        payloads.append(None if payload is None else json.dumps(payload))
    if len(set(keys)) != len(keys):
        from collections import Counter

        dupes = sorted(k for k, n in Counter(keys).items() if n > 1)[:5]
        raise JobError(f"job item keys must be unique (repeated: {', '.join(dupes)})")
    with db.tx() as cur:
        job_id = cur.execute(
            "INSERT INTO jobs (stage, backend, model, params, budget_usd, max_attempts) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [stage, backend, model, json.dumps(params or {}), budget_usd, max_attempts],
        ).fetchone()[0]
        if keys:
            cur.execute(
                "INSERT INTO job_items (job_id, item_key, seq, payload) "
                "SELECT ?, k, i, p FROM (SELECT unnest(?::VARCHAR[]) AS k, "
                "unnest(?::VARCHAR[]) AS p, unnest(range(?)) AS i)",
                [job_id, keys, payloads, len(keys)],
            )
    return job_id


def get_job(db: Database, job_id: int) -> dict | None:
    row = db.fetchone(
        "SELECT id, stage, backend, model, params, status, status_reason, budget_usd, "
        "max_attempts, created_at, started_at, finished_at FROM jobs WHERE id = ?",
        [job_id],
    )
    if row is None:
        return None
    cols = (
        "id stage backend model params status status_reason budget_usd max_attempts "
        "created_at started_at finished_at"
    ).split()
    job = dict(zip(cols, row, strict=True))
    job["params"] = json.loads(job["params"]) if job["params"] else {}
    return job


def list_jobs(db: Database, limit: int = 100) -> list[dict]:
    ids = [r[0] for r in db.fetchall("SELECT id FROM jobs ORDER BY id DESC LIMIT ?", [limit])]
    return [get_job(db, i) | {"counts": item_counts(db, i)} for i in ids]


def set_job_status(db: Database, job_id: int, status: str, reason: str | None = None) -> None:
    if status not in JOB_STATES:
        raise JobError(f"bad job status {status!r}")
    stamp = {
        "running": ", started_at = coalesce(started_at, current_timestamp), finished_at = NULL",
        "done": ", finished_at = current_timestamp",
        "failed": ", finished_at = current_timestamp",
        "cancelled": ", finished_at = current_timestamp",
    }.get(status, "")
    with db.tx() as cur:
        cur.execute(
            f"UPDATE jobs SET status = ?, status_reason = ?{stamp} WHERE id = ?",
            [status, reason, job_id],
        )


def set_budget(db: Database, job_id: int, budget_usd: float | None) -> None:
    with db.tx() as cur:
        cur.execute("UPDATE jobs SET budget_usd = ? WHERE id = ?", [budget_usd, job_id])


def item_counts(db: Database, job_id: int) -> dict[str, int]:
    counts = dict.fromkeys(ITEM_STATES, 0)
    for state, n in db.fetchall(
        "SELECT state, count(*) FROM job_items WHERE job_id = ? GROUP BY state", [job_id]
    ):
        counts[state] = n
    counts["total"] = sum(counts[s] for s in ITEM_STATES)
    counts["cached"], counts["in_batch"] = db.fetchone(
        "SELECT count(*) FILTER (WHERE cached), "
        "count(*) FILTER (WHERE state = 'pending' AND batch_ref IS NOT NULL) "
        "FROM job_items WHERE job_id = ?",
        [job_id],
    )
    return counts


def job_usage(db: Database, job_id: int) -> dict:
    row = db.fetchone(
        "SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), "
        "coalesce(sum(cost_usd), 0), count(*) FILTER (WHERE batch), "
        "coalesce(sum(cost_usd) FILTER (WHERE batch), 0) "
        "FROM requests WHERE job_id = ? AND outcome <> 'cached'",
        [job_id],
    )
    names = "requests prompt_tokens completion_tokens cost_usd batch_requests batch_cost_usd"
    return dict(zip(names.split(), row, strict=True))


# items -----------------------------------------------------------------------------------
def recover_items(db: Database, job_id: int) -> int:
    """Items left `running` by a process that died go back to pending. Returns how many."""
    with db.tx() as cur:
        n = cur.execute(
            "SELECT count(*) FROM job_items WHERE job_id = ? AND state = 'running'", [job_id]
        ).fetchone()[0]
        if n:
            cur.execute(
                "UPDATE job_items SET state = 'pending', updated_at = current_timestamp "
                "WHERE job_id = ? AND state = 'running'",
                [job_id],
            )
    return n


def recover_all(db: Database) -> list[int]:
    """At startup: jobs that were running when their process died become `stopped`."""
    ids = [r[0] for r in db.fetchall("SELECT id FROM jobs WHERE status IN ('running', 'paused')")]
    for job_id in ids:
        recover_items(db, job_id)
        set_job_status(db, job_id, "stopped", "interrupted")
    return ids


def claim_items(db: Database, job_id: int, n: int) -> list[JobItem]:
    with db.tx() as cur:
        rows = cur.execute(
            "UPDATE job_items SET state = 'running', updated_at = current_timestamp "
            "WHERE job_id = ? AND item_key IN (SELECT item_key FROM job_items "
            "WHERE job_id = ? AND state = 'pending' AND batch_ref IS NULL ORDER BY seq LIMIT ?) "
            "RETURNING item_key, seq, payload, attempts",
            [job_id, job_id, n],
        ).fetchall()
    rows.sort(key=lambda r: r[1])
    return [JobItem(job_id, k, s, json.loads(p) if p else None, a) for k, s, p, a in rows]


def unclaim_items(db: Database, job_id: int, keys: list[str]) -> None:
    if not keys:
        return
    with db.tx() as cur:
        cur.execute(
            "UPDATE job_items SET state = 'pending' WHERE job_id = ? AND state = 'running' "
            "AND list_contains(?::VARCHAR[], item_key)",
            [job_id, keys],
        )


def retry_failed(db: Database, job_id: int) -> int:
    with db.tx() as cur:
        n = cur.execute(
            "SELECT count(*) FROM job_items WHERE job_id = ? AND state = 'failed'", [job_id]
        ).fetchone()[0]
        cur.execute(
            "UPDATE job_items SET state = 'pending', attempts = 0, reason = NULL, error = NULL, "
            "batch_ref = NULL "
            "WHERE job_id = ? AND state = 'failed'",
            [job_id],
        )
    return n


def failed_items(db: Database, job_id: int) -> list[dict]:
    rows = db.fetchall(
        "SELECT item_key, attempts, reason, error FROM job_items "
        "WHERE job_id = ? AND state = 'failed' ORDER BY seq",
        [job_id],
    )
    return [dict(zip(("key", "attempts", "reason", "error"), r, strict=True)) for r in rows]


def write_outcomes(cur, job_id: int, outcomes: list[ItemOutcome]) -> None:
    """Inside the caller's transaction: final states of many items in one statement."""
    if not outcomes:
        return
    cols = {
        "k": ("VARCHAR", [o.key for o in outcomes]),
        "st": ("VARCHAR", [o.state for o in outcomes]),
        "at": ("INTEGER", [o.attempts for o in outcomes]),
        "rs": ("VARCHAR", [o.reason for o in outcomes]),
        "er": ("VARCHAR", [o.error for o in outcomes]),
        "rk": ("VARCHAR", [o.request_key for o in outcomes]),
        "ca": ("BOOLEAN", [o.cached for o in outcomes]),
        "co": ("DOUBLE", [o.cost_usd for o in outcomes]),
        "pt": ("INTEGER", [o.prompt_tokens for o in outcomes]),
        "ct": ("INTEGER", [o.completion_tokens for o in outcomes]),
    }
    unnest = ", ".join(f"unnest(?::{t}[]) AS {name}" for name, (t, _) in cols.items())
    cur.execute(
        "UPDATE job_items AS j SET state = v.st, attempts = v.at, reason = v.rs, error = v.er, "
        "request_key = v.rk, cached = v.ca, cost_usd = v.co, prompt_tokens = v.pt, "
        "completion_tokens = v.ct, updated_at = current_timestamp "
        f"FROM (SELECT {unnest}) AS v WHERE j.job_id = ? AND j.item_key = v.k",
        [vals for _, vals in cols.values()] + [job_id],
    )


def log_requests(cur, rows: list[RequestRow]) -> None:
    """Inside the caller's transaction: one row per model call."""
    if not rows:
        return
    fields = [
        ("job_id", "BIGINT"),
        ("item_key", "VARCHAR"),
        ("attempt", "INTEGER"),
        ("backend", "VARCHAR"),
        ("model", "VARCHAR"),
        ("prompt_hash", "VARCHAR"),
        ("started_at", "DOUBLE"),
        ("latency_ms", "DOUBLE"),
        ("prompt_tokens", "INTEGER"),
        ("completion_tokens", "INTEGER"),
        ("n_images", "INTEGER"),
        ("cost_usd", "DOUBLE"),
        ("outcome", "VARCHAR"),
        ("error_class", "VARCHAR"),
        ("http_status", "INTEGER"),
        ("error", "VARCHAR"),
        ("batch", "BOOLEAN"),
    ]
    unnest = ", ".join(f"unnest(?::{t}[]) AS {n}" for n, t in fields)
    select = ", ".join(
        n if n != "started_at" else "to_timestamp(started_at)::TIMESTAMP" for n, _ in fields
    )
    cur.execute(
        f"INSERT INTO requests ({', '.join(n for n, _ in fields)}) SELECT {select} FROM (SELECT {unnest})",
        [[getattr(r, n) for r in rows] for n, _ in fields],
    )


def write_outputs(cur, job_id: int, values: list[tuple[str, object]]) -> None:
    """Generic results for stages without a table of their own (and for tests)."""
    if values:
        cur.execute(
            "INSERT INTO job_outputs (job_id, item_key, value) "
            "SELECT ?, k, v FROM (SELECT unnest(?::VARCHAR[]) AS k, unnest(?::VARCHAR[]) AS v)",
            [job_id, [k for k, _ in values], [json.dumps(v) for _, v in values]],
        )


def job_outputs(db: Database, job_id: int) -> list[tuple[str, object]]:
    rows = db.fetchall(
        "SELECT item_key, value FROM job_outputs WHERE job_id = ? ORDER BY item_key", [job_id]
    )
    return [(k, json.loads(v) if v is not None else None) for k, v in rows]


def requests_log(db: Database, job_id: int) -> list[dict]:
    cols = (
        "item_key attempt outcome error_class http_status latency_ms prompt_tokens "
        "completion_tokens cost_usd error batch"
    ).split()
    rows = db.fetchall(
        f"SELECT {', '.join(cols)} FROM requests WHERE job_id = ? ORDER BY id", [job_id]
    )
    return [dict(zip(cols, r, strict=True)) for r in rows]


# result cache ----------------------------------------------------------------------------
def cache_get(db: Database, request_key: str) -> dict | None:
    raw = db.scalar("SELECT response FROM result_cache WHERE request_key = ?", [request_key])
    return json.loads(raw) if raw else None


def cache_put(cur, entries: list[tuple[str, str, str, str | None, str, dict]]) -> None:
    """(request_key, stage, item_key, model, prompt_hash, response) rows; first one wins."""
    if not entries:
        return
    cols = list(zip(*entries, strict=True))
    cur.execute(
        "INSERT INTO result_cache (request_key, stage, item_key, model, prompt_hash, response) "
        "SELECT * FROM (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
        "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[])) "
        "ON CONFLICT DO NOTHING",
        [list(c) for c in cols[:5]] + [[json.dumps(r) for r in cols[5]]],
    )
