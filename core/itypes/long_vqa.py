"""Long VQA: a question answered in a detailed paragraph. Neither verified against the image
nor scored: two good paragraphs rarely match word for word. Against the caption it is verified
by entailment: does the description support the answer (yes / no / cannot tell)?"""

from __future__ import annotations

from core.itypes.answers import normalize_judgement
from core.itypes.base import UNTELLABLE, UNTELLABLE_GBNF, InstructionType, is_untellable
from core.vocab import NO, YES
from core.vocab import InstructionType as Name


class LongVQA(InstructionType):
    name = Name.LONG_VQA.value
    label = "Long answer"
    color = "#b07aa1"
    default_count = 3
    answer_kind = "long"
    multi_round = True
    generate_max_tokens = 1800

    caption_verify_max_tokens = 8

    def caption_grammar(self, lang):
        return f'root ::= ("{YES[lang]}" | "{NO[lang]}" | {UNTELLABLE_GBNF[lang]})\n'

    def caption_judge(self, lang, stored, options, answer_text, reply, threshold):
        # The verifier was asked whether the caption supports the answer, not for an answer.
        if is_untellable(reply, lang):
            return UNTELLABLE[lang], False, 0.0, True
        got = normalize_judgement(reply, lang)
        agree = got == YES[lang]
        return got, agree, 1.0 if agree else 0.0, False
