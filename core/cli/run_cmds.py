"""`mmstudio run PROJECT --stage ...`: the pipeline stages from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.pipeline.option_fields import add_arguments, from_cli
from core.pipeline.options import OPTION_CLASSES
from core.vocab import STAGE_NAMES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help=f"run a pipeline stage: {', '.join(STAGE_NAMES)}")
    p.add_argument("project", type=Path)
    p.add_argument("--stage", type=_stage, help=", ".join(STAGE_NAMES))
    p.add_argument("--resume", type=int, metavar="JOB",
                   help="finish job JOB instead (poll its batches, send what is left)")  # fmt: skip
    p.add_argument("--cancel", action="store_true",
                   help="with --resume: cancel the job (and its batches still out)")  # fmt: skip
    p.add_argument("--backend", help="backend name (see `mmstudio backend list`)")
    # Each stage's own options, one flag per field (core/pipeline/options.py declares them).
    add_arguments(p, OPTION_CLASSES)
    p.add_argument("--concurrency", type=int, help="requests in flight (default: the backend's)")
    p.add_argument("--batch", action=argparse.BooleanOptionalAction, default=None,
                   help="send the run through the Batch API (half price, up to 24 h); "
                        "default: the backend's use_batch_api")  # fmt: skip
    p.add_argument("--on-expiry", choices=("batch", "live"),
                   help="batch: what an expired batch left unanswered goes into a new batch "
                        "(default) or live calls")  # fmt: skip
    p.add_argument("--poll", type=float, metavar="S", help="batch: seconds between polls (30)")
    p.add_argument("--wait", type=float, metavar="S",
                   help="batch: stop polling after S seconds (0: submit and return); the "
                        "batches keep running, `--resume JOB` collects them")  # fmt: skip
    p.add_argument(
        "--dry-run", action="store_true", help="print the prompts and the cost, send nothing"
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.set_defaults(func=cmd_run)


def _stage(name: str) -> str:
    """A registered stage (the registry is read only when `run` is parsed)."""
    from core.pipeline import stages

    if name not in stages.names():
        raise argparse.ArgumentTypeError(
            f"invalid choice: {name!r} (choose from {', '.join(stages.names())})"
        )
    return name


def _options(args):
    """The chosen stage's own options from the flags the user gave."""
    from core.pipeline import stages

    spec = stages.get(args.stage)
    return spec.options(**from_cli(spec.options, args, OPTION_CLASSES, args.stage))


def cmd_run(args) -> int:
    from core.cli import emit_json
    from core.jobs import Limits, recover_on_open
    from core.pipeline.run import PipelineError, dry_run
    from core.project import Project

    if (args.stage is None) == (args.resume is None):
        raise PipelineError("give --stage STAGE to start a run, or --resume JOB to finish one")
    if args.cancel and args.resume is None:
        raise PipelineError("--cancel goes with --resume JOB")
    opts = _options(args) if args.stage else None
    backend = None
    try:
        with Project.open(args.project) as project:
            recover_on_open(project.db)
            name = args.backend or (_job_backend(project, args.resume) if args.resume else None)
            if name:
                from core.backends.registry import make_backend

                backend = make_backend(name)
            limits = (
                Limits.from_backend(
                    backend, concurrency=args.concurrency, batch=args.batch,
                    batch_on_expiry=args.on_expiry, batch_poll_s=args.poll, batch_wait_s=args.wait,
                ) if backend else None
            )  # fmt: skip
            if args.resume is not None:
                result = _resume(project, args, backend, limits)
            elif args.dry_run:
                result = dry_run(project, args.stage, opts, backend)
            else:
                result = _run_with_progress(project, args, opts, backend, limits)
            if result.job_id:
                result.batch = _batch_summary(project, result.job_id)
    finally:
        if backend is not None:
            backend.close()
    if args.json:
        emit_json(result.to_json())
    else:
        print(result.summary_text())
    return 0 if result.ok() else 1


def _job_backend(project, job_id: int) -> str:
    from core.pipeline.run import PipelineError
    from core.store import jobs as store

    job = store.get_job(project.db, job_id)
    if job is None:
        raise PipelineError(f"no job {job_id} in this project (see the Jobs tab)")
    if not job["backend"]:
        raise PipelineError(f"job {job_id} names no backend: pass --backend NAME")
    return job["backend"]


def _resume(project, args, backend, limits) -> dict:
    from core.cli.job_progress import JobProgressBar
    from core.pipeline.run import resume_job

    bar = JobProgressBar(f"job {args.resume}")
    try:
        return resume_job(project, args.resume, backend, limits, on_event=bar,
                          cancel=args.cancel)  # fmt: skip
    finally:
        bar.close()


def _batch_summary(project, job_id: int) -> dict | None:
    """The Batch API part of a run's summary, when the job used it."""
    from core.store import batches as bstore
    from core.store import jobs as store

    rows = bstore.job_batches(project.db, job_id)
    if not rows:
        return None
    usage = store.job_usage(project.db, job_id)
    return {
        "batches": len(rows), "open": sum(not r["settled"] for r in rows),
        "in_batch": store.item_counts(project.db, job_id)["in_batch"],
        "expired": sum(r["status"] == "expired" for r in rows),
        "requests": usage["batch_requests"], "cost_usd": round(usage["batch_cost_usd"], 6),
    }  # fmt: skip


def _run_with_progress(project, args, opts, backend, limits):
    from core.cli.progress import Progress
    from core.pipeline.run import run_stage

    bars: dict[int, Progress] = {}

    def on_event(ev):
        bar = bars.get(ev.job_id)
        if bar is None:
            bar = bars[ev.job_id] = Progress(f"{args.stage} job {ev.job_id}", ev.total)
        bar(ev.done + ev.failed, ev.total, failed=ev.failed, cost=f"${ev.cost_usd:.4f}")

    local = Progress(args.stage)
    try:
        return run_stage(
            project, args.stage, opts, backend, limits, on_event=on_event,
            progress=lambda done, total: local(done, total),
        )  # fmt: skip
    finally:
        local.close()
        for bar in bars.values():
            bar.close()
