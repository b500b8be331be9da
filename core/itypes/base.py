"""What an instruction type is: one class holds everything that differs between types.

A type's prompt templates, its output constraints (JSON schema pieces and GBNF rules), the
parser hooks that read its fields, the answer normaliser, the verify judge, the eval scorer
and its token limits live on its class, so code elsewhere asks the type instead of testing
its name. Pure: the trainer imports this (no DuckDB, Qt, torch or backends).
"""

from __future__ import annotations

import re
from typing import ClassVar

# The caption verifier's "the description does not say" (its own flag: likely invented facts).
UNTELLABLE = {"en": "cannot tell", "zh": "无法判断"}
UNTELLABLE_GBNF = {"en": '"cannot tell"', "zh": '"无法判断"'}
_UNTELLABLE = re.compile(
    r"^\W*(cannot\s+(?:be\s+)?tell|can'?t\s+tell|cannot\s+be\s+(?:told|determined)|not\s+"
    r"(?:mentioned|stated|specified|described|known|clear)|unknown|unclear|no\s+information|"
    r"the\s+description\s+does\s+not\s+(?:say|tell|mention)|无法判断|无法确定|不确定|未提及|没有提到|不知道)",
    re.I,
)


def is_untellable(reply: str, lang: str) -> bool:
    return bool(_UNTELLABLE.match(reply.strip()))


class InstructionType:
    """Base class. Subclass, set `name` and the class attributes, override the hooks."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""  # English; the GUI translates it
    color: ClassVar[str] = "#8a8f98"
    default_count: ClassVar[int] = 3  # items wanted per image and language by default
    has_options: ClassVar[bool] = False  # four lettered options (A-D) go with the question
    # "fixed": the answer is one of a few values (a letter, yes/no); "short" / "long": prose.
    answer_kind: ClassVar[str] = "short"
    multi_round: ClassVar[bool] = False  # one image's items may become one conversation
    generate_max_tokens: ClassVar[int] = 400  # per 3 items asked for
    verify_max_tokens: ClassVar[int | None] = None  # None: verify leaves this type alone
    scored: ClassVar[bool] = False  # the trainer's held-out eval scores this type
    # Blind answerability: the chance of guessing the answer (None: the type is not asked).
    blind_chance: ClassVar[float | None] = None
    caption_verify_max_tokens: ClassVar[int] = 16
    # Built-in templates come from resources/prompts/*.yaml; a type added in code may carry its
    # own: {template name: {lang: text}} for generate_<name>, format_<fmt>_<name>, verify_<name>.
    prompt_texts: ClassVar[dict[str, dict[str, str]]] = {}

    # Prompts ------------------------------------------------------------------------------
    @classmethod
    def template_names(cls) -> list[str]:
        blind = [cls.blind_template()] if cls.blind_chance else []
        return [cls.generate_template(), *(cls.format_template(f) for f in ("tagged", "json")),
                cls.verify_template(), cls.caption_verify_template(), *blind]  # fmt: skip

    @classmethod
    def generate_template(cls) -> str:
        return f"generate_{cls.name}"

    @classmethod
    def format_template(cls, fmt: str) -> str:
        return f"format_{fmt}_{cls.name}"

    @classmethod
    def verify_template(cls) -> str:
        return f"verify_{cls.name}"

    # Output constraints -------------------------------------------------------------------
    def answer_schema(self, lang: str, value: str | None, answer_field: dict) -> dict:
        """JSON schema of the answer; `value` pins one answer (balanced judgement)."""
        return answer_field

    def balanced_answers(self, lang: str, n: int) -> list[str] | None:
        """Answers the n items must have in order, or None when they are free."""
        return None

    def gbnf_answer(self, i: int, lang: str) -> str:
        """The GBNF expression for item i's answer in the tagged grammar."""
        return "atext"

    def verify_grammar(self, lang: str) -> str | None:
        """A grammar for verify's one-word reply, or None when the reply is free text."""
        return None

    # Parsing ------------------------------------------------------------------------------
    def read_tagged(self, item, choices: str | None) -> None:
        """Finish a parsed tagged item in place (options, answer); note every repair."""

    def read_json(self, item, raw: dict) -> None:
        """Finish an item read from JSON in place."""

    # Answers ------------------------------------------------------------------------------
    def normalize(self, answer: str, lang: str, options: list[str] | None = None) -> str:
        """The canonical answer, or the text as written when none is recognised. Verify
        agreement and eval accuracy both compare through this."""
        return answer.strip()

    def judge(self, lang: str, stored: str, options, reply: str, threshold: float):
        """Verify: (normalised reply, agree, score) of the model's image-only reply."""
        got = self.normalize(reply, lang, options)
        score = 1.0 if got == stored else 0.0
        return got, score == 1.0, score

    def eval_correct(self, prediction: str, answer: str) -> bool | None:
        """Eval: is `prediction` right (None: this type is not scored)."""
        return None

    # Caption-grounded verification and blind answerability ----------------------------------
    @classmethod
    def caption_verify_template(cls) -> str:
        return f"verify_caption_{cls.name}"

    @classmethod
    def blind_template(cls) -> str:
        return f"blind_{cls.name}"

    def caption_grammar(self, lang: str) -> str | None:
        """GBNF for the caption verifier's reply: the type's answer or "cannot tell"."""
        return f"root ::= {UNTELLABLE_GBNF[lang]} | [^\\n]{{1,80}}\n"

    def caption_judge(self, lang, stored, options, answer_text, reply, threshold):
        """(normalised reply, agree, score, untellable) of the caption-only reply; the stored
        answer is compared through the type's own verify judge."""
        if is_untellable(reply, lang):
            return UNTELLABLE[lang], False, 0.0, True
        got, agree, score = self.judge(lang, stored, options, reply, threshold)
        return got, agree, score, False

    def __repr__(self) -> str:
        return f"<instruction type {self.name}>"
