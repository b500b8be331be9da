"""Verify stage (beyond the paper): the vision model answers each question from the image
alone, without the caption the question was written from. Multiple choice and judgement are
compared exactly (after the same normalisation the parser uses), short answers by similarity.
A disagreement flags a likely hallucination and keeps the model's answer for the reviewer.
Long answers are not verified: two good paragraphs rarely match word for word.
"""

from __future__ import annotations

from core import itypes
from core.backends.base import ChatRequest
from core.jobs.stage import BadOutput
from core.pipeline.common import ModelStage
from core.pipeline.grammar import verify_constraint
from core.pipeline.options import VerifyOptions
from core.pipeline.prompts import verify_prompt
from core.pipeline.results import VerifyResult
from core.pipeline.risk import refresh_risk
from core.pipeline.selection import item_statuses
from core.pipeline.stage_verify_caption import CaptionVerifyStage, plan_caption_verification
from core.pipeline.stages import EngineRun, StageSpec, register
from core.store import pipeline as store


def judge(itype: str, lang: str, stored: str, options, reply: str, threshold: float):
    """(normalised reply, agree, score) for one item: the type's own judge."""
    return itypes.get(itype).judge(lang, stored, options, reply, threshold)


class VerifyStage(ModelStage):
    name = "verify"

    def build(self, item):
        (row,) = store.select_instructions(self.db, ids=[item.payload["id"]]) or [None]
        if row is None:
            return None
        img = self.image(row.image_id)
        if img is None:
            return None
        rendered = verify_prompt(
            self.db, row.itype, row.lang, row.question, row.options, row.domain
        )
        self.remember(item.key, row=row)
        request = ChatRequest.user(
            rendered.text,
            [self.image_path(img)],
            max_tokens=itypes.get(row.itype).verify_max_tokens,
            temperature=0.0,
        )
        request.extra.update(verify_constraint(self.capabilities, row.itype, row.lang))
        return request

    def parse(self, item, response):
        text = response.text.strip()
        if not text:
            raise BadOutput("empty answer")
        return {"reply": text}

    def store_many(self, db, results):
        for item, value, _ctx in results:
            row = self.recall(item.key).get("row")
            if row is None:
                (row,) = store.select_instructions(db, ids=[item.payload["id"]])
            got, agree, score = judge(
                row.itype, row.lang, row.answer, row.options, value["reply"], self.opts.similarity
            )
            message = (
                f"the model, looking at the image only, answered {got[:80]!r} "
                f"instead of {row.answer[:80]!r}"
            )
            store.save_verify(db, row.id, got, agree, score, message)
            refresh_risk(db, [row.id])


def plan_verification(project, opts) -> tuple[list[tuple[str, dict]], dict]:
    rows = store.select_instructions(
        project.db,
        domain=opts.domain,
        image_ids=opts.image_ids,
        statuses=item_statuses(opts),
        itypes=itypes.verifiable(),
        lang=None,
        ids=opts.instruction_ids,
    )
    items, skipped = [], {"already_verified": 0}
    image_ids: set[int] = set()
    for row in rows:
        if (
            opts.limit is not None
            and row.image_id not in image_ids
            and len(image_ids) >= opts.limit
        ):
            continue
        if row.verify_answer is not None and not opts.force:
            skipped["already_verified"] += 1
            continue
        image_ids.add(row.image_id)
        items.append((str(row.id), {"id": row.id}))
    return items, skipped


@register
class Verify(StageSpec):
    name = "verify"
    title = "Verify answers"
    options = VerifyOptions
    sends_images = True
    engine_stages = {"verify": VerifyStage, "verify_caption": CaptionVerifyStage}
    result = VerifyResult

    def needs_images(self, opts):
        return opts.against != "caption"  # against the caption: any text model serves

    def plan(self, project, opts, backend):
        if opts.against == "caption":
            items, skipped = plan_caption_verification(project, opts)
            return EngineRun("verify_caption", CaptionVerifyStage(project, opts), items, skipped)
        items, skipped = plan_verification(project, opts)
        return EngineRun("verify", VerifyStage(project, opts), items, skipped)

    def describe(self, opts):
        return {"against": opts.against}
