"""`mmstudio run PROJECT --stage ...`: the pipeline stages from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from core import itypes as itype_registry
from core.vocab import LANGS, STAGE_NAMES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help=f"run a pipeline stage: {', '.join(STAGE_NAMES)}")
    p.add_argument("project", type=Path)
    p.add_argument("--stage", type=_stage, help=", ".join(STAGE_NAMES))
    p.add_argument("--resume", type=int, metavar="JOB",
                   help="finish job JOB instead (poll its batches, send what is left)")  # fmt: skip
    p.add_argument("--cancel", action="store_true",
                   help="with --resume: cancel the job (and its batches still out)")  # fmt: skip
    p.add_argument("--backend", help="backend name (see `mmstudio backend list`)")
    p.add_argument("--domain", help="only images of this domain")
    p.add_argument("--images", help="only these images: comma-separated ids, e.g. 1,2,3")
    p.add_argument("--items", help="verify, blind: only these instructions: ids, e.g. 4,9")
    p.add_argument("--statuses", help="verify, blind, expand: only items of these statuses, "
                   "e.g. new,needs_review (default: the stage's own)")  # fmt: skip
    p.add_argument("--limit", type=int, help="at most this many images (items for expand)")
    p.add_argument("--lang", default="en", choices=LANGS, help="output language")
    p.add_argument(
        "--types", help=f"generate: comma-separated, of {', '.join(itype_registry.names())}"
    )
    p.add_argument("--format", dest="fmt", default="tagged", choices=("tagged", "json"),
                   help="generate: the paper's tagged layout or JSON")  # fmt: skip
    p.add_argument("--seeds", type=int, default=3, help="generate: seed questions per request")
    p.add_argument("--with-image", action="store_true", help="generate: send the image too")
    p.add_argument("--ocr-engine", default="rapidocr", choices=("rapidocr", "vlm"))
    p.add_argument("--mode", default="rephrase", choices=("rephrase", "translate", "import"),
                   help="expand: what to do")  # fmt: skip
    p.add_argument("--source", help="expand --mode import: a LLaVA/ShareGPT file or export folder")
    p.add_argument("--source-format", help="expand --mode import: llava | sharegpt | ... (guessed)")
    p.add_argument("--against", default="image", choices=("image", "caption"),
                   help="verify: the VLM sees the image, or a text model reads the caption")  # fmt: skip
    p.add_argument("--blind-trials", type=int, default=3,
                   help="blind: times each judgement / multiple-choice item is asked")  # fmt: skip
    p.add_argument("--blind-threshold", type=float, default=1.0,
                   help="blind: flag items scoring at least this (0-1; 1 = right every time)")  # fmt: skip
    p.add_argument("--force", action="store_true", help="redo items that already have a result")
    p.add_argument("--concurrency", type=int, help="requests in flight (default: the backend's)")
    p.add_argument("--budget", type=float, help="stop the job cleanly past this many USD")
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
    from core.pipeline.common import StageOptions
    from core.pipeline.run import PipelineError

    known = itype_registry.names()
    itypes = list(known)
    if args.types:
        itypes = [t.strip() for t in args.types.split(",") if t.strip()]
        unknown = sorted(set(itypes) - set(known))
        if unknown:
            raise PipelineError(
                f"unknown type(s) {', '.join(unknown)}; expected {', '.join(known)}"
            )
    return StageOptions(
        lang=args.lang, domain=args.domain, image_ids=_ids(args.images, "--images", "image"),
        limit=args.limit,
        itypes=itypes, seeds_k=args.seeds, fmt=args.fmt, attach_image=args.with_image,
        force=args.force, ocr_engine=args.ocr_engine, mode=args.mode, source=args.source,
        source_format=args.source_format, budget_usd=args.budget, against=args.against,
        blind_trials=args.blind_trials, blind_threshold=args.blind_threshold,
        instruction_ids=_ids(args.items, "--items", "instruction"),
        statuses=[s.strip() for s in args.statuses.split(",") if s.strip()] if args.statuses else None,
    )  # fmt: skip


def _ids(text: str | None, flag: str, what: str) -> list[int] | None:
    from core.pipeline.run import PipelineError

    if text is None:
        return None
    ids = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            ids.append(int(part))
        except ValueError:
            raise PipelineError(
                f"{flag}: {part!r} is not an {what} id; expected numbers like 1,2,3"
            ) from None
    if not ids:
        raise PipelineError(f"{flag}: no {what} id given; expected numbers like 1,2,3")
    return sorted(set(ids))


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
            if result.get("job_id"):
                result |= _batch_summary(project, result["job_id"])
    finally:
        if backend is not None:
            backend.close()
    if args.json:
        emit_json(result)
    else:
        print(describe(result))
    failed = result.get("failed") or 0
    return 1 if failed and not result.get("done") else 0


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


def _batch_summary(project, job_id: int) -> dict:
    """The Batch API part of a run's summary, when the job used it."""
    from core.store import batches as bstore
    from core.store import jobs as store

    rows = bstore.job_batches(project.db, job_id)
    if not rows:
        return {}
    usage = store.job_usage(project.db, job_id)
    return {"batch": {
        "batches": len(rows), "open": sum(not r["settled"] for r in rows),
        "in_batch": store.item_counts(project.db, job_id)["in_batch"],
        "expired": sum(r["status"] == "expired" for r in rows),
        "requests": usage["batch_requests"], "cost_usd": round(usage["batch_cost_usd"], 6),
    }}  # fmt: skip


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


def describe(result: dict) -> str:
    stage = result["stage"]
    if result.get("dry_run"):
        lines = [f"{stage}: {result['requests']} request(s) would be sent"]
        if result.get("note"):
            lines = [f"{stage}: {result['note']}"]
        for p in result.get("prompts", []):
            lines.append(f"--- item {p['item']}")
            for m in p["messages"]:
                images = "".join(f"\n[image: {i}]" for i in m.get("images", []))
                lines.append(f"[{m['role']}]\n{m['text']}{images}")
        cost = result.get("estimated_cost_usd")
        lines.append(
            f"estimated cost: at most ${cost:.4f}" if cost is not None
            else "estimated cost: unknown (no backend given, or its model is not in the price table)"
        )  # fmt: skip
        return "\n".join(lines)
    from core.pipeline import stages

    return stages.get(stage).summary_text(result)  # each stage words its own summary
