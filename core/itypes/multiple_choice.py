"""Multiple choice: a question with four options A-D; the answer is the letter."""

from __future__ import annotations

from core.itypes.answers import clean_field, normalize_choice, split_options, strip_letter
from core.itypes.base import UNTELLABLE_GBNF, InstructionType
from core.vocab import LETTERS
from core.vocab import InstructionType as Name


class MultipleChoice(InstructionType):
    name = Name.MULTIPLE_CHOICE.value
    label = "Multiple choice"
    color = "#f28e2b"
    default_count = 3
    has_options = True
    answer_kind = "fixed"
    generate_max_tokens = 700
    verify_max_tokens = 8
    scored = True
    blind_chance = 0.25

    def answer_schema(self, lang, value, answer_field):
        return {"type": "string", "enum": list(LETTERS)}

    def gbnf_answer(self, i, lang):
        return "(" + " | ".join(f'"{letter}"' for letter in LETTERS) + ")"

    def verify_grammar(self, lang):
        return "root ::= (" + " | ".join(f'"{letter}"' for letter in LETTERS) + ")\n"

    def read_tagged(self, item, choices):
        options: list[str] = []
        if choices is not None:
            _lead, options = split_options(choices)
            if not options and choices.strip():
                # One option per line without letters.
                options = [clean_field(x) for x in choices.strip().splitlines() if x.strip()]
                item.notes.append("options had no letters; taken one per line")
        if not options:
            lead, inline = split_options(item.question)
            if inline:
                item.question, options = lead, inline
                item.notes.append("options found inside the question")
        item.options = [clean_field(o) for o in options]
        raw = item.answer
        item.answer = self.normalize(raw, item.lang, item.options)
        if item.answer != raw:
            item.notes.append(f"answer {raw!r} read as {item.answer!r}")

    def read_json(self, item, raw):
        item.options = [strip_letter(clean_field(o)) for o in raw["options"]]
        item.answer = self.normalize(item.answer, item.lang, item.options)

    def normalize(self, answer, lang, options=None):
        return normalize_choice(answer, options)

    def eval_correct(self, prediction, answer):
        got = self.normalize(prediction, "en")
        return got in LETTERS and got == self.normalize(answer, "en")

    def caption_grammar(self, lang):
        letters = " | ".join(f'"{letter}"' for letter in LETTERS)
        return f"root ::= ({letters} | {UNTELLABLE_GBNF[lang]})\n"
