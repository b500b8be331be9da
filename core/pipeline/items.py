"""The typed shape of one question-answer item as the parsers produce and the checks read it."""

from __future__ import annotations

from dataclasses import dataclass, field

ITYPES = ("judgement", "multiple_choice", "short_vqa", "long_vqa")
LANGS = ("en", "zh")
LETTERS = ("A", "B", "C", "D")

# Judgement answers as stored (docs/CONTRACTS.md): yes/no in English, 是/否 in Chinese.
YES = {"en": "yes", "zh": "是"}
NO = {"en": "no", "zh": "否"}

# Items wanted per image and type by default (issue 4; judgement is 2 yes + 2 no).
DEFAULT_COUNTS = {"multiple_choice": 3, "judgement": 4, "short_vqa": 3, "long_vqa": 3}


@dataclass
class Item:
    itype: str
    lang: str
    question: str
    answer: str
    options: list[str] | None = None
    index: int = 0  # position in the model's output, 1-based
    notes: list[str] = field(default_factory=list)  # what the parser had to repair

    def to_json(self) -> dict:
        out = {"itype": self.itype, "lang": self.lang, "question": self.question}
        if self.options is not None:
            out["options"] = list(self.options)
        out["answer"] = self.answer
        return out


def check_itype(itype: str) -> str:
    if itype not in ITYPES:
        raise ValueError(f"unknown instruction type {itype!r}; expected one of {', '.join(ITYPES)}")
    return itype


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected en or zh")
    return lang
