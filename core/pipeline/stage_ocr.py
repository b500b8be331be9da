"""OCR stage: text lines per image, from the embedded engine or from the vision model.

The embedded engine runs here, image after image, without the job engine (no model calls,
no cost); it is resumable all the same, because images that already have its result are
skipped. The `vlm` engine asks the backend to transcribe and is a job like the others.
"""

from __future__ import annotations

from core.backends.base import ChatRequest
from core.pipeline.common import ModelStage
from core.pipeline.ocr import LOCAL_ENGINES, lines_text, parse_vlm_transcript
from core.pipeline.options import OcrOptions
from core.pipeline.prompts import simple_prompt
from core.pipeline.results import OcrResult
from core.pipeline.stages import DirectRun, EngineRun, StageSpec, register
from core.store import ocr as ocr_store
from core.store import pipeline as store
from core.store.changes import selection_changes


def images_needing_ocr(project, opts, engine: str):
    done = set() if opts.force else ocr_store.images_with_ocr(project.db, engine)
    chosen = store.select_images(project.db, opts.domain, opts.limit, ids=opts.image_ids)
    return [img for img in chosen if img.id not in done], len(chosen)


def run_local_ocr(project, opts, progress=None, threads: int | None = None) -> dict:
    engine_fn = LOCAL_ENGINES[opts.ocr_engine]
    todo, total = images_needing_ocr(project, opts, opts.ocr_engine)
    failed, with_text = [], 0
    for n, img in enumerate(todo, start=1):
        try:
            lines = engine_fn(project.resolve_media(img.storage, img.path), threads=threads)
        except OSError as exc:  # a file moved or unreadable: report it, keep going
            failed.append({"image_id": img.id, "reason": f"{type(exc).__name__}: {exc}"})
            continue
        ocr_store.save_ocr(
            project.db, img.id, opts.ocr_engine, [ln.to_json() for ln in lines], lines_text(lines)
        )
        with_text += bool(lines)
        if progress:
            progress(n, len(todo))
    return {
        "engine": opts.ocr_engine,
        "images": len(todo),
        "skipped": total - len(todo),
        "with_text": with_text,
        "failed": failed,
    }


class VlmOcrStage(ModelStage):
    name = "ocr"

    def build(self, item):
        img = self.image(item.payload["image_id"])
        if img is None:
            return None
        rendered = simple_prompt(self.db, "ocr", self.opts.lang, img.domain)
        return ChatRequest.user(
            rendered.text, [self.image_path(img)], max_tokens=400, temperature=0.0
        )

    def parse(self, item, response):
        return [ln.to_json() for ln in parse_vlm_transcript(response.text)]

    def store_many(self, db, results):
        for item, lines, ctx in results:
            text = "\n".join(ln["text"] for ln in lines)
            ocr_store.save_ocr(db, item.payload["image_id"], f"vlm:{ctx.model}", lines, text)


def plan_vlm_ocr(project, opts, model: str) -> tuple[list[tuple[str, dict]], dict]:
    todo, total = images_needing_ocr(project, opts, f"vlm:{model}")
    items = [(str(img.id), {"image_id": img.id}) for img in todo]
    return items, {"already_done": total - len(todo)}


@register
class Ocr(StageSpec):
    """The embedded engine runs directly; the `vlm` engine is a model job."""

    name = "ocr"
    title = "OCR (text in the image)"
    options = OcrOptions
    sends_images = True
    engine_stages = {"ocr": VlmOcrStage}

    def needs_model(self, opts):
        return opts.ocr_engine == "vlm"

    def plan(self, project, opts, backend):
        if not self.needs_model(opts):
            return DirectRun(
                lambda progress: OcrResult(
                    "ocr",
                    opts.lang,
                    opts.domain,
                    **run_local_ocr(project, opts, progress, threads=opts.threads),
                ),  # fmt: skip
                changes=lambda: selection_changes(project.db, opts),
            )
        items, skipped = plan_vlm_ocr(project, opts, backend.model if backend else "?")
        return EngineRun("ocr", VlmOcrStage(project, opts), items, skipped)
