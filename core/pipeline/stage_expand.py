"""Expand stage: more items from those a project has.

- rephrase: the same question in other words; options and answer carry over.
- translate: an item EN <-> ZH, sent in the tagged layout of its type and read back with the
  same tolerant parser, so option letters and yes/no answers survive the round trip.
- import: items from an open dataset (LLaVA JSON, ShareGPT, our exports) through the export
  area's readers, as extra items of a domain with status `new`, so they pass the checks too.
Expanded rows keep `parent_id`, the item they came from.
"""

from __future__ import annotations

from core.backends.base import ChatRequest
from core.changes import Changes
from core.jobs.stage import BadOutput
from core.pipeline.common import ModelStage
from core.pipeline.items import LETTERS
from core.pipeline.options import ExpandOptions, PipelineError
from core.pipeline.parsers import ParseError, parse_tagged
from core.pipeline.prompts import simple_prompt
from core.pipeline.results import ExpandResult, ImportResult
from core.pipeline.stages import DirectRun, EngineRun, StageSpec, register
from core.store import pipeline as store
from core.store.pipeline import NewInstruction

OTHER = {"en": "zh", "zh": "en"}


def tagged_item(row) -> str:
    """One item in the paper's tagged layout, numbered 1."""
    out = f"<Q1>{row.question}</Q1>\n"
    if row.options:
        opts = "\n".join(f"{letter}. {o}" for letter, o in zip(LETTERS, row.options, strict=False))
        out += f"<C1>{opts}</C1>\n"
    return out + f"<A1>{row.answer}</A1>"


class _ExpandStage(ModelStage):
    def _row(self, item):
        found = store.select_instructions(self.db, ids=[item.payload["id"]])
        return found[0] if found else None

    def _store(self, db, item, ctx, row, lang, question, answer, options):
        store.insert_instructions(
            db,
            [
                NewInstruction(
                    image_id=row.image_id, itype=row.itype, lang=lang, question=question,
                    answer=answer, options=options, origin="expanded", job_id=ctx.job_id,
                    model=ctx.model, prompt_hash=self.recall(item.key).get("prompt_hash"),
                    parent_id=row.id,
                )
            ],
        )  # fmt: skip


class RephraseStage(_ExpandStage):
    name = "rephrase"

    def build(self, item):
        row = self._row(item)
        if row is None:
            return None
        rendered = simple_prompt(self.db, "rephrase", row.lang, row.domain, question=row.question)
        self.remember(item.key, prompt_hash=rendered.hash)
        return ChatRequest.user(rendered.text, max_tokens=200, temperature=0.7)

    def parse(self, item, response):
        text = response.text.strip().strip('"“”')
        for label in ("Question:", "问题：", "Rephrased question:"):
            text = text.removeprefix(label).strip()
        if not text:
            raise BadOutput("empty rephrasing")
        return {"question": text.splitlines()[0].strip()}

    def store_many(self, db, results):
        for item, value, ctx in results:
            row = self._row(item)
            if row is not None and value["question"] != row.question:
                self._store(
                    db, item, ctx, row, row.lang, value["question"], row.answer, row.options
                )


class TranslateStage(_ExpandStage):
    name = "translate"

    def build(self, item):
        row = self._row(item)
        if row is None:
            return None
        target = OTHER[row.lang]
        rendered = simple_prompt(self.db, "translate", target, row.domain, item=tagged_item(row))
        self.remember(item.key, prompt_hash=rendered.hash)
        return ChatRequest.user(rendered.text, max_tokens=1500, temperature=0.2)

    def parse(self, item, response):
        row = self._row(item)
        if row is None:
            raise BadOutput("the item was deleted")
        try:
            (got, *_) = parse_tagged(response.text, row.itype, OTHER[row.lang]).items
        except ParseError as exc:
            raise BadOutput(f"unparseable translation: {exc}") from None
        if row.itype == "multiple_choice" and got.answer != row.answer:
            got.answer = row.answer  # letters never change in translation
        return got.to_json()

    def store_many(self, db, results):
        for item, value, ctx in results:
            row = self._row(item)
            if row is not None:
                self._store(
                    db, item, ctx, row, OTHER[row.lang], value["question"], value["answer"],
                    value.get("options"),
                )  # fmt: skip


def plan_expansion(project, opts) -> tuple[list[tuple[str, dict]], dict]:
    statuses = opts.statuses or ["ok", "accepted"]
    rows = store.select_instructions(
        project.db, domain=opts.domain, image_ids=opts.image_ids, statuses=statuses
    )
    rows = [r for r in rows if r.origin != "expanded"]  # never expand an expansion
    done = store.expanded_parents(project.db, opts.mode)
    items, skipped = [], {"already_expanded": 0}
    for row in rows[: opts.limit] if opts.limit else rows:
        if row.id in done and not opts.force:
            skipped["already_expanded"] += 1
            continue
        items.append((f"{opts.mode}:{row.id}", {"id": row.id}))
    return items, skipped


def import_items(project, opts):
    from core.export.importer import import_data

    if not opts.source:
        raise ValueError("expand --mode import needs --source FILE_OR_FOLDER")
    summary = import_data(
        project,
        opts.source,
        opts.source_format,
        domain=opts.domain,
        status="new",
        skip_invalid=True,
    )
    return summary


ENGINE_STAGES = {"rephrase": RephraseStage, "translate": TranslateStage}


@register
class Expand(StageSpec):
    """Rephrase or translate items through a model; `import` adds items from a file."""

    name = "expand"
    title = "Expand (rephrase / translate)"
    options = ExpandOptions
    engine_stages = ENGINE_STAGES
    result = ExpandResult

    def needs_model(self, opts):
        return opts.mode != "import"

    def plan(self, project, opts, backend):
        if opts.mode == "import":
            if not opts.source:
                raise PipelineError("expand --mode import needs --source FILE_OR_FOLDER")
            return DirectRun(
                lambda progress: ImportResult(
                    "expand", opts.lang, opts.domain, import_items(project, opts)
                ),
                changes=lambda: Changes(added_images=True),
            )
        items, skipped = plan_expansion(project, opts)
        return EngineRun(opts.mode, ENGINE_STAGES[opts.mode](project, opts), items, skipped)

    def describe(self, opts):
        return {"mode": opts.mode}
