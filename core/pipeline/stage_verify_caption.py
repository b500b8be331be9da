"""Caption-grounded verification (`run --stage verify --against caption`): a text model
answers each question from the image's caption alone, without seeing the generated answer.

Judgement and multiple choice agree exactly, short answers by similarity, long answers by
entailment (does the caption support the answer?); each type's own `caption_judge` decides.
"cannot tell" is its own flag: the item may state a fact the caption never gave. Any text
backend serves, the local llama.cpp one included; where the backend takes a grammar the reply
is constrained to the type's answers or "cannot tell", so it parses by construction. The job
engine caches, resumes and prices it like every other stage.
"""

from __future__ import annotations

from core import itypes
from core.backends.base import GRAMMAR, ChatRequest
from core.jobs.stage import BadOutput
from core.pipeline.common import ModelStage
from core.pipeline.prompts import caption_verify_prompt
from core.pipeline.risk import refresh_risk
from core.pipeline.selection import item_statuses
from core.store import pipeline as store
from core.store import quality


class CaptionVerifyStage(ModelStage):
    name = "verify_caption"

    def build(self, item):
        (row,) = store.select_instructions(self.db, ids=[item.payload["id"]]) or [None]
        if row is None:
            return None
        caption = store.current_caption(self.db, row.image_id, row.lang)
        if caption is None:
            return None
        rendered = caption_verify_prompt(self.db, row, caption.text)
        self.remember(item.key, row=row)
        kind = itypes.get(row.itype)
        request = ChatRequest.user(
            rendered.text, [], max_tokens=kind.caption_verify_max_tokens, temperature=0.0
        )
        grammar = kind.caption_grammar(row.lang)
        if grammar and supports_grammar(self):
            request.extra["grammar"] = grammar
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
            got, agree, score, untellable = itypes.get(row.itype).caption_judge(
                row.lang, row.answer, row.options, row.answer, value["reply"], self.opts.similarity
            )
            if untellable:
                message = "the caption verifier says the caption cannot tell (an invented fact?)"
            else:
                message = (
                    f"from the caption alone the text model answered {got[:80]!r} "
                    f"instead of {row.answer[:80]!r}"
                )
            quality.save_caption_verify(db, row.id, got, agree, score, untellable, message)
            refresh_risk(db, [row.id])


def supports_grammar(stage) -> bool:
    """Whether the stage's backend enforces a GBNF grammar (its declared capabilities)."""
    return GRAMMAR in stage.capabilities.constraints


def plan_caption_verification(project, opts) -> tuple[list[tuple[str, dict]], dict]:
    rows = store.select_instructions(
        project.db,
        domain=opts.domain,
        image_ids=opts.image_ids,
        statuses=item_statuses(opts),
        ids=opts.instruction_ids,
    )
    items, skipped = [], {"already_verified": 0, "no_caption": 0}
    images: set[int] = set()
    captioned: dict[tuple[int, str], bool] = {}
    done = quality.caption_verified_ids(project.db, [r.id for r in rows])
    for row in rows:
        if opts.limit is not None and row.image_id not in images and len(images) >= opts.limit:
            continue
        if row.id in done and not opts.force:
            skipped["already_verified"] += 1
            continue
        key = (row.image_id, row.lang)
        if key not in captioned:
            captioned[key] = store.current_caption(project.db, *key) is not None
        if not captioned[key]:
            skipped["no_caption"] += 1
            continue
        images.add(row.image_id)
        items.append((str(row.id), {"id": row.id}))
    return items, skipped
