"""Judgement: a yes/no question (是/否 in Chinese); items alternate yes and no."""

from __future__ import annotations

from core.itypes.answers import normalize_judgement
from core.itypes.base import UNTELLABLE_GBNF, InstructionType
from core.vocab import NO, YES
from core.vocab import InstructionType as Name


class Judgement(InstructionType):
    name = Name.JUDGEMENT.value
    label = "Judgement"
    color = "#4e79a7"
    default_count = 4  # 2 yes + 2 no, the balance the paper asks for
    answer_kind = "fixed"
    generate_max_tokens = 400
    verify_max_tokens = 8
    scored = True
    blind_chance = 0.5

    def answer_schema(self, lang, value, answer_field):
        if value:
            return {"type": "string", "const": value}
        return {"type": "string", "enum": [YES[lang], NO[lang]]}

    def balanced_answers(self, lang, n):
        return [(YES if i % 2 == 0 else NO)[lang] for i in range(n)]

    def gbnf_answer(self, i, lang):
        # i counts from 1: item 1 is yes, item 2 no, ...
        return f'"{(YES if i % 2 else NO)[lang]}"'

    def verify_grammar(self, lang):
        return f'root ::= ("{YES[lang]}" | "{NO[lang]}")\n'

    def read_tagged(self, item, choices):
        raw = item.answer
        item.answer = self.normalize(raw, item.lang)
        if item.answer != raw:
            item.notes.append(f"answer {raw!r} read as {item.answer!r}")

    def read_json(self, item, raw):
        item.answer = self.normalize(item.answer, item.lang)

    def normalize(self, answer, lang, options=None):
        return normalize_judgement(answer, lang)

    def eval_correct(self, prediction, answer):
        # Compared in English terms, so 是 and "yes" agree whatever the reference's language.
        got, want = self.normalize(prediction, "en"), self.normalize(answer, "en")
        return got in (YES["en"], NO["en"]) and got == want

    def caption_grammar(self, lang):
        return f'root ::= ("{YES[lang]}" | "{NO[lang]}" | {UNTELLABLE_GBNF[lang]})\n'
