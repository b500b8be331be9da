"""Generate stage: typed question-answer items per image from its caption and seed questions.

One job item per (image, type, language) asks for N items (multiple choice 3, judgement 4 as
2 yes + 2 no, short 3, long 3) with k seeds of the domain, type and language. The seeds are
drawn when the job is planned, with an rng seeded by the image, type, language and the run's
sample seed: the same run asks the same request again, so a re-run hits the reply cache.
An unparseable reply is retried by the job engine and ends failed with the parser's reason.
Long answers of one image are stored as one multi-round conversation.
"""

from __future__ import annotations

import random

from core import itypes
from core.backends.base import ChatRequest
from core.domains import sample_seeds
from core.jobs.stage import BadOutput
from core.pipeline.common import DEFAULT_LONG_MIN_WORDS, ModelStage
from core.pipeline.grammar import request_constraints
from core.pipeline.options import GenerateOptions
from core.pipeline.parsers import ParseError, parse_output
from core.pipeline.prompts import generate_prompt
from core.pipeline.stages import EngineRun, StageSpec, register
from core.store import pipeline as store
from core.store.item_writes import replace_item
from core.store.pipeline import NewInstruction


class GenerateStage(ModelStage):
    name = "generate"

    def build(self, item):
        p = item.payload
        img = self.image(p["image_id"])
        if img is None:
            return None
        caption = store.current_caption(self.db, img.id, p["lang"])
        if caption is None:
            return None
        itype, lang, n = p["itype"], p["lang"], p["n"]
        rendered = generate_prompt(
            self.db, self.domain(img.domain), itype, lang, self.opts.fmt, n, caption.text,
            self.prior(img) or None, p["seeds"], DEFAULT_LONG_MIN_WORDS[lang],
        )  # fmt: skip
        self.remember(item.key, prompt_hash=rendered.hash)
        constraint = request_constraints(
            self.capabilities, self.opts.fmt, itype, lang, n, self.opts.max_chars
        )
        images = [self.image_path(img)] if self.opts.attach_image else []
        request = ChatRequest.user(
            rendered.text,
            images,
            max_tokens=itypes.get(itype).generate_max_tokens * max(1, n) // 3 + 200,
            temperature=self.opts.temperature,
            seed=self.opts.sample_seed,
        )
        request.json_schema = constraint.json_schema
        request.extra.update(constraint.extra)
        return request

    def parse(self, item, response):
        p = item.payload
        try:
            parsed = parse_output(response.text, self.opts.fmt, p["itype"], p["lang"])
        except ParseError as exc:
            cut = " (the reply hit max_tokens)" if response.finish_reason == "length" else ""
            raise BadOutput(f"unparseable reply: {exc}{cut}") from None
        if p.get("replace") is not None and not parsed.items:
            raise BadOutput("the reply held no item to put in place of the old one")
        return {"items": [it.to_json() for it in parsed.items], "skipped": parsed.skipped}

    def store_many(self, db, results):
        for item, value, ctx in results:
            p = item.payload
            if p.get("replace") is not None:
                it = value["items"][0]
                replace_item(
                    db, p["replace"], it["question"], it["answer"], it.get("options"),
                    ctx.job_id, ctx.model, self.recall(item.key).get("prompt_hash"), p["seed_ids"],
                )  # fmt: skip
                continue
            rows = [
                NewInstruction(
                    image_id=p["image_id"],
                    itype=p["itype"],
                    lang=p["lang"],
                    question=it["question"],
                    answer=it["answer"],
                    options=it.get("options"),
                    job_id=ctx.job_id,
                    model=ctx.model,
                    prompt_hash=self.recall(item.key).get("prompt_hash"),
                    seed_ids=p["seed_ids"],
                )
                for it in value["items"]
            ]
            grouped = itypes.get(p["itype"]).multi_round and self.opts.multi_round and len(rows) > 1
            store.insert_instructions(db, rows, conversation=grouped)


def plan_regeneration(project, opts) -> tuple[list[tuple[str, dict]], dict]:
    """One job item per chosen item: one new item of its image, type and language, put in its
    place. The sample seed is part of the item key, so another seed is another request (a
    reply cached for an earlier seed is not reused)."""
    db = project.db
    items, skipped = [], {"no_caption": 0}
    for row in store.select_instructions(
        db, domain=opts.domain, image_ids=opts.image_ids, ids=opts.instruction_ids
    ):
        if store.current_caption(db, row.image_id, row.lang) is None:
            skipped["no_caption"] += 1
            continue
        rng = random.Random(f"{row.id}:{opts.sample_seed}")
        seeds = (
            sample_seeds(db, row.domain, row.itype, row.lang, opts.seeds_k, rng)
            if row.domain
            else []
        )
        payload = {"image_id": row.image_id, "itype": row.itype, "lang": row.lang, "n": 1,
                   "seed_ids": [s.id for s in seeds], "seeds": [s.text for s in seeds],
                   "replace": row.id}  # fmt: skip
        key = f"{row.image_id}:{row.itype}:{row.lang}:item{row.id}:seed{opts.sample_seed}"
        items.append((key, payload))
    return items, skipped


def plan_generation(project, opts) -> tuple[list[tuple[str, dict]], dict]:
    """Items for (image, type) pairs of captioned images that have no generated items yet."""
    db = project.db
    items, skipped = [], {"no_caption": 0, "already_generated": 0}
    for img in store.select_images(db, opts.domain, opts.limit, ids=opts.image_ids):
        if store.current_caption(db, img.id, opts.lang) is None:
            skipped["no_caption"] += 1
            continue
        for itype in opts.itypes:
            if not opts.force and store.count_instructions(db, img.id, itype, opts.lang):
                skipped["already_generated"] += 1
                continue
            rng = random.Random(f"{img.id}:{itype}:{opts.lang}:{opts.sample_seed}")
            seeds = (
                sample_seeds(db, img.domain, itype, opts.lang, opts.seeds_k, rng)
                if img.domain
                else []
            )
            payload = {
                "image_id": img.id,
                "itype": itype,
                "lang": opts.lang,
                "n": int(opts.counts.get(itype, 3)),
                "seed_ids": [s.id for s in seeds],
                "seeds": [s.text for s in seeds],
            }
            items.append((f"{img.id}:{itype}:{opts.lang}", payload))
    return items, skipped


@register
class Generate(StageSpec):
    name = "generate"
    title = "Generate instructions"
    options = GenerateOptions
    engine_stages = {"generate": GenerateStage}

    def plan(self, project, opts, backend):
        planner = plan_generation if opts.instruction_ids is None else plan_regeneration
        items, skipped = planner(project, opts)
        return EngineRun("generate", GenerateStage(project, opts), items, skipped)
