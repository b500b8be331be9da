"""Long VQA: a question answered in a detailed paragraph. Neither verified nor scored: two
good paragraphs rarely match word for word."""

from __future__ import annotations

from core.itypes.base import InstructionType
from core.vocab import InstructionType as Name


class LongVQA(InstructionType):
    name = Name.LONG_VQA.value
    label = "Long answer"
    color = "#b07aa1"
    default_count = 3
    answer_kind = "long"
    multi_round = True
    generate_max_tokens = 1800
