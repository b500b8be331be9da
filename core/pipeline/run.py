"""Running a pipeline stage over a project: plan its items, run them as a job, summarise.

Each stage is resumable without remembering anything: planning skips what is already done
(captioned images, generated (image, type) pairs, verified items), and the job engine's reply
cache answers requests it has already paid for. `dry_run` builds the same requests without
sending them, to show the prompts and what they would cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import StudioError
from core.jobs import Limits, create_job, run_job
from core.jobs.stage import Stage
from core.pipeline.common import StageOptions
from core.store import jobs as jobs_store
from core.store.jobs import JobItem
from core.vocab import LANGS

STAGE_NAMES = ("ocr", "caption", "generate", "check", "verify", "blind", "expand")
VERIFY_AGAINST = ("image", "caption")
EXPAND_MODES = ("rephrase", "translate", "import")
NEEDS_IMAGES = {"caption", "verify", "ocr"}


class PipelineError(StudioError):
    pass


@dataclass
class Planned:
    job_stage: str  # the name the job engine knows the stage by
    stage: Stage
    items: list[tuple[str, dict]]
    skipped: dict


def _planners() -> dict[str, Callable]:
    """stage -> (project, opts, backend) -> Planned | None (None: runs without the engine)."""
    from core.pipeline import (
        stage_blind,
        stage_caption,
        stage_expand,
        stage_generate,
        stage_ocr,
        stage_verify,
        stage_verify_caption,
    )

    def caption(project, opts, backend):
        items, skipped = stage_caption.plan_captions(project, opts)
        return Planned("caption", stage_caption.CaptionStage(project, opts), items, skipped)

    def generate(project, opts, backend):
        items, skipped = stage_generate.plan_generation(project, opts)
        return Planned("generate", stage_generate.GenerateStage(project, opts), items, skipped)

    def verify(project, opts, backend):
        if opts.against == "caption":
            items, skipped = stage_verify_caption.plan_caption_verification(project, opts)
            stage = stage_verify_caption.CaptionVerifyStage(project, opts)
            return Planned("verify_caption", stage, items, skipped)
        items, skipped = stage_verify.plan_verification(project, opts)
        return Planned("verify", stage_verify.VerifyStage(project, opts), items, skipped)

    def blind(project, opts, backend):
        items, skipped = stage_blind.plan_blind(project, opts)
        return Planned("blind", stage_blind.BlindStage(project, opts), items, skipped)

    def expand(project, opts, backend):
        if opts.mode == "import":
            return None
        cls = {"rephrase": stage_expand.RephraseStage, "translate": stage_expand.TranslateStage}
        items, skipped = stage_expand.plan_expansion(project, opts)
        return Planned(opts.mode, cls[opts.mode](project, opts), items, skipped)

    def ocr(project, opts, backend):
        if opts.ocr_engine != "vlm":
            return None
        model = backend.model if backend else "?"
        items, skipped = stage_ocr.plan_vlm_ocr(project, opts, model)
        return Planned("ocr", stage_ocr.VlmOcrStage(project, opts), items, skipped)

    return {
        "caption": caption,
        "generate": generate,
        "verify": verify,
        "blind": blind,
        "expand": expand,
        "ocr": ocr,
    }


def _check_options(stage: str, opts: StageOptions) -> None:
    if stage not in STAGE_NAMES:
        raise PipelineError(f"unknown stage {stage!r}; expected one of {', '.join(STAGE_NAMES)}")
    if opts.lang not in LANGS:
        raise PipelineError(f"unknown language {opts.lang!r}; expected en or zh")
    if stage == "expand" and opts.mode not in EXPAND_MODES:
        raise PipelineError(
            f"unknown expand mode {opts.mode!r}; expected {', '.join(EXPAND_MODES)}"
        )
    if opts.fmt not in ("tagged", "json"):
        raise PipelineError(f"unknown output format {opts.fmt!r}; expected tagged or json")
    if opts.against not in VERIFY_AGAINST:
        raise PipelineError(f"unknown verify mode {opts.against!r}; expected image or caption")
    if not 1 <= opts.blind_trials <= 20:
        raise PipelineError(f"blind trials must be 1 to 20, not {opts.blind_trials}")
    if stage == "ocr" and opts.ocr_engine not in ("rapidocr", "vlm"):
        raise PipelineError(f"unknown OCR engine {opts.ocr_engine!r}; expected rapidocr or vlm")


def _check_selection(project, opts: StageOptions) -> None:
    """A run over chosen images names images of this project (a typo is not "nothing to do")."""
    if opts.image_ids is None:
        return
    if not opts.image_ids:
        raise PipelineError("no image chosen: pass image ids, or leave the selection out")
    from core.store.pipeline import missing_image_ids

    missing = missing_image_ids(project.db, opts.image_ids)
    if missing:
        shown = ", ".join(str(i) for i in missing[:10]) + (", …" if len(missing) > 10 else "")
        raise PipelineError(f"no image with id {shown} in this project")


def text_only(stage: str, opts: StageOptions) -> bool:
    """Verify against the caption sends no image: any text backend serves."""
    return stage == "verify" and opts.against == "caption"


def _need_backend(stage: str, backend, opts: StageOptions) -> None:
    if backend is None:
        raise PipelineError(
            f"stage {stage} calls a model: pass --backend NAME (see `mmstudio backend add`)"
        )
    if stage in NEEDS_IMAGES and not backend.supports_images and not text_only(stage, opts):
        raise PipelineError(f"stage {stage} sends images, but backend {backend.name!r} takes none")


def _run_planned(project, plan: Planned, opts, backend, limits, on_event) -> dict:
    out = {"job_id": None, "items": len(plan.items), "done": 0, "failed": 0, "cached": 0,
           "cost_usd": 0.0, "status": "nothing to do", "failures": []}  # fmt: skip
    if not plan.items:
        return out
    job_id = create_job(
        project.db, plan.job_stage, plan.items, backend=backend.name, model=backend.model,
        params=opts.to_json(), budget_usd=opts.budget_usd,
    )  # fmt: skip
    final = run_job(project.db, job_id, plan.stage, backend, limits, on_event)
    out.update(job_id=job_id, done=final.done, failed=final.failed, cached=final.cached,
               cost_usd=round(final.cost_usd, 6), status=final.status,
               failures=jobs_store.failed_items(project.db, job_id)[:50])  # fmt: skip
    return out


def run_stage(
    project,
    stage: str,
    opts: StageOptions,
    backend=None,
    limits: Limits | None = None,
    on_event=None,
    progress=None,
) -> dict:
    """Run one stage to its end and return its summary (the `mmstudio run --json` document)."""
    _check_options(stage, opts)
    _check_selection(project, opts)
    summary: dict = {"stage": stage, "lang": opts.lang, "domain": opts.domain}
    if stage == "check":
        from core.pipeline.stage_check import run_check_stage

        return summary | run_check_stage(project, opts, progress=progress)
    if stage == "ocr" and opts.ocr_engine != "vlm":
        from core.pipeline.stage_ocr import run_local_ocr

        return summary | run_local_ocr(project, opts, progress=progress, threads=opts.threads)
    if stage == "expand" and opts.mode == "import":
        from core.pipeline.stage_expand import import_items

        if not opts.source:
            raise PipelineError("expand --mode import needs --source FILE_OR_FOLDER")
        return summary | {"mode": "import", "import": import_items(project, opts)}
    _need_backend(stage, backend, opts)
    opts.backend_kind = backend.kind
    plan = _planners()[stage](project, opts, backend)
    summary |= {"backend": backend.name, "model": backend.model, "skipped": plan.skipped}
    if stage == "expand":
        summary["mode"] = opts.mode
    if stage == "verify":
        summary["against"] = opts.against
    summary |= _run_planned(project, plan, opts, backend, limits, on_event)
    if stage == "caption" and summary["job_id"]:
        summary["retry"] = _caption_retries(project, opts, backend, limits, on_event, plan)
    return summary


def _caption_retries(project, opts, backend, limits, on_event, first: Planned) -> dict:
    from core.pipeline import stage_caption

    ids = [p["image_id"] for _, p in first.items]
    items = stage_caption.plan_caption_retries(project, opts, ids)
    retry = Planned("caption_retry", stage_caption.CaptionRetryStage(project, opts), items, {})
    return _run_planned(project, retry, opts, backend, limits, on_event)


def dry_run(project, stage: str, opts: StageOptions, backend=None, show: int = 3) -> dict:
    """The requests a run would send, without sending: count, the first `show` prompts, and
    the estimated cost (an upper bound: every reply at max_tokens) when the model is priced."""
    _check_options(stage, opts)
    _check_selection(project, opts)
    out: dict = {"stage": stage, "dry_run": True, "requests": 0, "prompts": [],
                 "estimated_cost_usd": 0.0, "priced": False}  # fmt: skip
    if backend is not None:
        opts.backend_kind = backend.kind
    plan = _planners().get(stage, lambda *a: None)(project, opts, backend)
    if plan is None:
        out["note"] = f"stage {stage} sends no model requests"
        return out
    out["skipped"] = plan.skipped
    priced = False
    if backend is not None:
        from core.backends.pricing import price_table

        priced = price_table().is_priced(backend.model)
        out |= {"backend": backend.name, "model": backend.model, "priced": priced}
    tokens = 0
    for seq, (key, payload) in enumerate(plan.items):
        request = plan.stage.build(JobItem(0, key, seq, payload))
        if request is None:
            continue
        out["requests"] += 1
        if len(out["prompts"]) < show:
            out["prompts"].append({"item": key, "messages": _describe(request)})
        if backend is not None:
            prepared = backend.prepare(request)
            tokens += prepared.est_tokens
            if priced:
                out["estimated_cost_usd"] += backend.max_cost(prepared)
    out["estimated_tokens"] = tokens if backend is not None else None
    out["estimated_cost_usd"] = round(out["estimated_cost_usd"], 6) if priced else None
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
) -> dict:
    """Finish a pipeline job another run left unfinished (stopped, cancelled, killed), with
    the options it was created with. Items already done stay done and are not paid again;
    batches still out are polled and collected. `cancel`: end it (and its batches) instead."""
    from core.jobs import make_stage
    from core.pipeline import (  # noqa: F401  (importing registers the stages)
        stage_blind,
        stage_caption,
        stage_expand,
        stage_generate,
        stage_ocr,
        stage_verify,
        stage_verify_caption,
    )

    job = jobs_store.get_job(project.db, job_id)
    if job is None:
        raise PipelineError(f"no job {job_id}")
    opts = StageOptions.from_json(job["params"])
    opts.backend_kind = backend.kind
    try:
        stage = make_stage(job["stage"], project, opts)
    except KeyError as exc:
        raise PipelineError(str(exc).strip("'\"")) from None
    final = run_job(project.db, job_id, stage, backend, limits, on_event, cancel=cancel)
    return {"job_id": job_id, "stage": job["stage"], "status": final.status, "done": final.done,
            "failed": final.failed, "cached": final.cached, "cost_usd": round(final.cost_usd, 6)}  # fmt: skip
