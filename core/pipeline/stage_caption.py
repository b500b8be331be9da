"""Caption stage: a domain-aware description per image, with the image's OCR text, tags and
source title as prior knowledge when it has any.

A caption shorter than the minimum is stored (the image has a caption either way) and then
asked for once more in a follow-up turn ("too short, again in more detail"); the longer reply
becomes a new version. Re-captioning never deletes: older versions stay, `is_current` moves.
"""

from __future__ import annotations

from core.backends.base import ChatRequest, Message
from core.jobs.stage import BadOutput
from core.pipeline.common import ModelStage
from core.pipeline.options import CaptionOptions
from core.pipeline.prompts import caption_prompt, simple_prompt
from core.pipeline.results import CaptionResult
from core.pipeline.stages import EngineRun, StageSpec, register
from core.pipeline.textutil import length_units
from core.store import pipeline as store

_PREAMBLE = ("Sure", "Certainly", "Here is", "Here's", "好的", "以下是")


def clean_caption(text: str) -> str:
    """Drop a chatty first line ("Sure! Here is a description:") and surrounding quotes."""
    text = text.strip()
    first, _, rest = text.partition("\n")
    if rest.strip() and first.startswith(_PREAMBLE) and first.rstrip().endswith((":", "：")):
        text = rest.strip()
    return text.strip('"“”')


class CaptionStage(ModelStage):
    name = "caption"

    def build(self, item):
        img = self.image(item.payload["image_id"])
        if img is None:
            return None
        lang = item.payload["lang"]
        prior = self.prior(img)
        rendered = caption_prompt(
            self.db, self.domain(img.domain), lang, prior or None, self.opts.min_caption(lang)
        )
        self.remember(item.key, prompt_hash=rendered.hash)
        return ChatRequest.user(
            rendered.text, [self.image_path(img)], max_tokens=700, temperature=0.2
        )

    def parse(self, item, response):
        text = clean_caption(response.text)
        if not text:
            raise BadOutput("empty caption")
        lang = item.payload["lang"]
        return {"text": text, "short": length_units(text, lang) < self.opts.min_caption(lang)}

    def store_many(self, db, results):
        for item, value, ctx in results:
            store.add_caption(
                db,
                item.payload["image_id"],
                value["text"],
                item.payload["lang"],
                ctx.model,
                self.recall(item.key).get("prompt_hash"),
                ctx.job_id,
            )


class CaptionRetryStage(CaptionStage):
    """The one retry for a short caption: the same request plus the short reply and a nudge."""

    name = "caption_retry"

    def build(self, item):
        first = super().build(item)
        if first is None:
            return None
        lang = item.payload["lang"]
        nudge = simple_prompt(self.db, "caption_retry", lang, min_words=self.opts.min_caption(lang))
        meta = self.recall(item.key)
        self.remember(item.key, prompt_hash=meta.get("prompt_hash"), retry_hash=nudge.hash)
        first.messages += [
            Message("assistant", item.payload["short_text"]),
            Message("user", nudge.text),
        ]
        return first

    def store_many(self, db, results):
        for item, value, ctx in results:
            lang = item.payload["lang"]
            if length_units(value["text"], lang) <= length_units(item.payload["short_text"], lang):
                continue  # no better than the first try: keep that one current
            meta = self.recall(item.key)
            store.add_caption(
                db, item.payload["image_id"], value["text"], lang, ctx.model,
                meta.get("prompt_hash"), ctx.job_id,
            )  # fmt: skip


def plan_captions(project, opts) -> tuple[list[tuple[str, dict]], dict]:
    """Items for the images that have no current caption in the language (all with force)."""
    items, skipped = [], 0
    for img in store.select_images(project.db, opts.domain, opts.limit, ids=opts.image_ids):
        if not opts.force and store.current_caption(project.db, img.id, opts.lang, exact=True):
            skipped += 1
            continue
        items.append((f"{img.id}:{opts.lang}", {"image_id": img.id, "lang": opts.lang}))
    return items, {"already_captioned": skipped}


def plan_caption_retries(project, opts, image_ids: list[int]) -> list[tuple[str, dict]]:
    items = []
    for image_id in image_ids:
        cap = store.current_caption(project.db, image_id, opts.lang, exact=True)
        if cap and length_units(cap.text, opts.lang) < opts.min_caption(opts.lang):
            payload = {"image_id": image_id, "lang": opts.lang, "short_text": cap.text}
            items.append((f"{image_id}:{opts.lang}", payload))
    return items


@register
class Caption(StageSpec):
    name = "caption"
    title = "Caption"
    options = CaptionOptions
    sends_images = True
    engine_stages = {"caption": CaptionStage, "caption_retry": CaptionRetryStage}
    result = CaptionResult

    def plan(self, project, opts, backend):
        items, skipped = plan_captions(project, opts)

        def retries() -> EngineRun:
            # A caption shorter than the minimum gets one more try with a "too short" prompt.
            again = plan_caption_retries(project, opts, [p["image_id"] for _, p in items])
            return EngineRun("caption_retry", CaptionRetryStage(project, opts), again, {})

        return EngineRun("caption", CaptionStage(project, opts), items, skipped, retries, "retry")
