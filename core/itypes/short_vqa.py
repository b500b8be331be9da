"""Short VQA: a question answered in a few words."""

from __future__ import annotations

from core.itypes.answers import match_key
from core.itypes.base import InstructionType
from core.pipeline.textutil import answer_similarity
from core.vocab import InstructionType as Name


class ShortVQA(InstructionType):
    name = Name.SHORT_VQA.value
    label = "Short answer"
    color = "#59a14f"
    default_count = 3
    answer_kind = "short"
    generate_max_tokens = 400
    verify_max_tokens = 40
    scored = True

    def normalize(self, answer, lang, options=None):
        return answer.strip().strip(".。").strip()

    def judge(self, lang, stored, options, reply, threshold):
        # Two right short answers rarely match letter for letter: agree by similarity.
        got = self.normalize(reply, lang)
        score = round(answer_similarity(got, stored), 3)
        return got, score >= threshold, score

    def eval_correct(self, prediction, answer):
        return match_key(self.normalize(prediction, "en")) == match_key(
            self.normalize(answer, "en")
        )
