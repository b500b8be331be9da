"""Running a pipeline stage over a project: plan its items, run them as a job, summarise.

Each stage is resumable without remembering anything: planning skips what is already done
(captioned images, generated (image, type) pairs, verified items), and the job engine's reply
cache answers requests it has already paid for. `dry_run` builds the same requests without
sending them, to show the prompts and what they would cost.
"""

from __future__ import annotations

from core.jobs import Limits, create_job, run_job
from core.pipeline import stages
from core.pipeline.options import PipelineError
from core.pipeline.results import DryRunResult, JobPart, ResumeResult, StageResult
from core.pipeline.stages import DirectRun, EngineRun
from core.store import jobs as jobs_store
from core.store.jobs import JobItem

__all__ = ["PipelineError", "dry_run", "resume_job", "run_stage"]

NEED_BACKEND = "stage {stage} calls a model: pass --backend NAME (see `mmstudio backend add`)"


def _run_planned(project, plan: EngineRun, opts, backend, limits, on_event) -> JobPart:
    if not plan.items:
        return JobPart()
    job_id = create_job(
        project.db, plan.job_stage, plan.items, backend=backend.name, model=backend.model,
        params=opts.to_json(), budget_usd=opts.budget_usd,
    )  # fmt: skip
    final = run_job(project.db, job_id, plan.stage, backend, limits, on_event)
    return JobPart(job_id, len(plan.items), final.done, final.failed, final.cached,
                   round(final.cost_usd, 6), final.status,
                   jobs_store.failed_items(project.db, job_id)[:50])  # fmt: skip


def run_stage(
    project,
    stage: str,
    opts,
    backend=None,
    limits: Limits | None = None,
    on_event=None,
    progress=None,
) -> StageResult:
    """Run one stage to its end; its result's `to_json()` is the `mmstudio run --json`
    document. `opts`: the stage's own options (or any options object or dict it takes)."""
    opts = stages.prepare(project, stage, opts)
    spec = stages.get(stage)
    if not spec.needs_model(opts):
        run = stages.plan(project, stage, opts)
        assert isinstance(run, DirectRun), stage
        return run.run(progress)
    stages.check_backend(stage, backend, NEED_BACKEND, opts=opts)
    plan = stages.plan(project, stage, opts, backend)
    result = spec.result(
        stage=stage, lang=opts.lang, domain=opts.domain, backend=backend.name,
        model=backend.model, skipped=plan.skipped, **spec.describe(opts),
    )  # fmt: skip
    result.job = _run_planned(project, plan, opts, backend, limits, on_event)
    if plan.followup is not None and result.job.job_id:
        nxt = plan.followup() or EngineRun(plan.job_stage, plan.stage, [], {})
        result.followup = _run_planned(project, nxt, opts, backend, limits, on_event)
        result.followup_key = plan.followup_key
    return result


def dry_run(project, stage: str, opts, backend=None, show: int = 3) -> DryRunResult:
    """The requests a run would send, without sending: count, the first `show` prompts, and
    the estimated cost (an upper bound: every reply at max_tokens) when the model is priced."""
    opts = stages.prepare(project, stage, opts)
    out = DryRunResult(stage)
    if not stages.get(stage).needs_model(opts):
        out.note = f"stage {stage} sends no model requests"
        return out
    plan = stages.plan(project, stage, opts, backend)
    out.skipped = plan.skipped
    if backend is not None:
        from core.backends.pricing import price_table

        out.priced = price_table().is_priced(backend.model)
        out.backend, out.model = backend.name, backend.model
    tokens, cost = 0, 0.0
    for seq, (key, payload) in enumerate(plan.items):
        request = plan.stage.build(JobItem(0, key, seq, payload))
        if request is None:
            continue
        out.requests += 1
        if len(out.prompts) < show:
            out.prompts.append({"item": key, "messages": _describe(request)})
        if backend is not None:
            prepared = backend.prepare(request)
            tokens += prepared.est_tokens
            if out.priced:
                cost += backend.max_cost(prepared)
    out.estimated_tokens = tokens if backend is not None else None
    out.estimated_cost_usd = round(cost, 6) if out.priced else None
    return out


def _describe(request) -> list[dict]:
    from core.backends.base import ImagePart

    msgs = []
    for m in request.messages:
        if isinstance(m.content, str):
            msgs.append({"role": m.role, "text": m.content})
            continue
        text = "\n".join(p for p in m.content if isinstance(p, str))
        images = [str(p.path) for p in m.content if isinstance(p, ImagePart) and p.path]
        msgs.append({"role": m.role, "text": text, "images": images})
    return msgs


def resume_job(
    project, job_id: int, backend, limits: Limits | None = None, on_event=None, cancel=False
) -> ResumeResult:
    """Finish a pipeline job another run left unfinished (stopped, cancelled, killed), with
    the options it was created with. Items already done stay done and are not paid again;
    batches still out are polled and collected. `cancel`: end it (and its batches) instead."""
    job, stage = stages.prepare_resume(project, job_id, backend)
    final = run_job(project.db, job_id, stage, backend, limits, on_event, cancel=cancel)
    part = JobPart(job_id, done=final.done, failed=final.failed, cached=final.cached,
                   cost_usd=round(final.cost_usd, 6), status=final.status)  # fmt: skip
    return ResumeResult(part, job["stage"])
