"""Persistent job queue and async runner (see docs/jobs.md)."""

from core.jobs.engine import JobAlreadyRunning, JobHandle, recover_on_open, run_job, start_job
from core.jobs.retry import RetryPolicy
from core.jobs.runner import JobRunner, Limits
from core.jobs.stage import (
    STAGES,
    BadOutput,
    JobEvent,
    Stage,
    StoreContext,
    make_stage,
    register_stage,
    request_key,
)
from core.store.jobs import JobItem, create_job

__all__ = [
    "STAGES",
    "BadOutput",
    "JobAlreadyRunning",
    "JobEvent",
    "JobHandle",
    "JobItem",
    "JobRunner",
    "Limits",
    "RetryPolicy",
    "Stage",
    "StoreContext",
    "create_job",
    "make_stage",
    "recover_on_open",
    "register_stage",
    "request_key",
    "run_job",
    "start_job",
]
