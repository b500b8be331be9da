"""Blind answerability (`run --stage blind`): a text model answers judgement and multiple-
choice items with neither the image nor the caption (after MMStar: many benchmark items are
answerable without looking). An item it gets right well above chance is marked "answerable
without the image" with a score; it is a flag for the reviewer, never a rejection.

Each item is asked `blind_trials` times (default 3), one job item per trial. Multiple-choice
options are rotated from trial to trial, so a model that always says "A" is right once, not
every time; judgement trials are sampled with different seeds. The score is the share right
above chance, (right/trials - chance) / (1 - chance), clipped to 0..1; the flag is set when
the score reaches `blind_threshold` (default 1.0: right in every trial, which a guesser does
with probability chance**trials).
"""

from __future__ import annotations

from core import itypes
from core.backends.base import ChatRequest
from core.jobs.stage import BadOutput
from core.pipeline.common import ModelStage
from core.pipeline.options import BlindOptions
from core.pipeline.prompts import blind_prompt
from core.pipeline.risk import refresh_risk
from core.pipeline.selection import item_statuses
from core.pipeline.stage_verify_caption import supports_grammar
from core.pipeline.stages import EngineRun, StageSpec, register
from core.store import pipeline as store
from core.store import quality
from core.vocab import LETTERS


def rotate(options: list[str], trial: int) -> list[str]:
    k = trial % len(options) if options else 0
    return options[k:] + options[:k]


def original_letter(letter: str, trial: int, n: int) -> str:
    """The letter in the stored order of the option shown as `letter` in trial `trial`."""
    if letter not in LETTERS[:n]:
        return letter
    return LETTERS[(LETTERS.index(letter) + trial) % n]


def blind_score(answers: list[str], stored: str, chance: float) -> float:
    right = sum(a == stored for a in answers) / len(answers)
    return round(min(1.0, max(0.0, (right - chance) / (1.0 - chance))), 3)


class BlindStage(ModelStage):
    name = "blind"

    def build(self, item):
        (row,) = store.select_instructions(self.db, ids=[item.payload["id"]]) or [None]
        if row is None:
            return None
        trial = item.payload["trial"]
        kind = itypes.get(row.itype)
        shown = rotate(list(row.options or []), trial) if kind.has_options else None
        rendered = blind_prompt(self.db, row, shown)
        self.remember(item.key, row=row)
        request = ChatRequest.user(
            rendered.text,
            [],
            max_tokens=kind.verify_max_tokens or 8,
            # Trials of a type without options differ by sampling; rotated options by order.
            temperature=0.0 if kind.has_options else 0.8,
            seed=trial,
        )
        grammar = kind.verify_grammar(row.lang)
        if grammar and supports_grammar(self):
            request.extra["grammar"] = grammar
        return request

    def parse(self, item, response):
        text = response.text.strip()
        if not text:
            raise BadOutput("empty answer")
        return {"reply": text}

    def store_many(self, db, results):
        trials = self.opts.blind_trials
        for item, value, _ctx in results:
            row = self.recall(item.key).get("row")
            if row is None:
                (row,) = store.select_instructions(db, ids=[item.payload["id"]])
            kind, trial = itypes.get(row.itype), item.payload["trial"]
            got = kind.normalize(value["reply"], row.lang, rotate(list(row.options or []), trial))
            if kind.has_options:
                got = original_letter(got, trial, len(row.options or []))
            answers = quality.save_blind_trial(db, row.id, trial, trials, got)
            if any(a is None for a in answers):
                continue
            score = blind_score(answers, row.answer, kind.blind_chance)
            message = None
            if score >= self.opts.blind_threshold:
                right = sum(a == row.answer for a in answers)
                message = (
                    f"a text model with neither image nor caption answered it right "
                    f"{right} of {trials} times (score {score:.2f})"
                )
            quality.save_blind(db, row.id, score, message)
            refresh_risk(db, [row.id])


def plan_blind(project, opts) -> tuple[list[tuple[str, dict]], dict]:
    rows = store.select_instructions(
        project.db,
        domain=opts.domain,
        image_ids=opts.image_ids,
        statuses=item_statuses(opts),
        itypes=[t.name for t in itypes.all_types() if t.blind_chance],
        ids=opts.instruction_ids,
    )
    items, skipped = [], {"already_scored": 0}
    images: set[int] = set()
    state = quality.blind_state(project.db, [r.id for r in rows])
    for row in rows:
        if opts.limit is not None and row.image_id not in images and len(images) >= opts.limit:
            continue
        answers = state.get(row.id)
        complete = answers is not None and len(answers) == opts.blind_trials
        if complete and all(a is not None for a in answers) and not opts.force:
            skipped["already_scored"] += 1
            continue
        if opts.force or not complete:
            answers = None  # every trial again; each overwrites its slot
        images.add(row.image_id)
        for trial in range(opts.blind_trials):
            if answers is None or answers[trial] is None:
                items.append((f"{row.id}:{trial}", {"id": row.id, "trial": trial}))
    return items, skipped


@register
class Blind(StageSpec):
    """Judgement and multiple-choice items asked with neither image nor caption."""

    name = "blind"
    title = "Blind answerability (no image, no caption)"
    options = BlindOptions
    engine_stages = {"blind": BlindStage}

    def plan(self, project, opts, backend):
        items, skipped = plan_blind(project, opts)
        return EngineRun("blind", BlindStage(project, opts), items, skipped)
