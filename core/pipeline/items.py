"""The typed shape of one question-answer item as the parsers produce and the checks read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from core import itypes, vocab

# Re-exported so the parsers, checks and stages keep one import; defined in core.vocab.
ITYPES, LANGS = vocab.ITYPES, vocab.LANGS
LETTERS, YES, NO = vocab.LETTERS, vocab.YES, vocab.NO
check_itype = itypes.check_itype
check_lang = vocab.check_lang


def default_counts() -> dict[str, int]:
    """Items wanted per image and type by default (issue 4; judgement is 2 yes + 2 no)."""
    return {t.name: t.default_count for t in itypes.all_types()}


DEFAULT_COUNTS = default_counts()


@dataclass
class Item:
    itype: str
    lang: str
    question: str
    answer: str
    options: list[str] | None = None
    index: int = 0  # position in the model's output, 1-based
    notes: list[str] = field(default_factory=list)  # what the parser had to repair
    # The caption the item was written from, for the rules that compare against it (None:
    # those rules skip the item).
    caption: str | None = None

    def to_json(self) -> dict:
        out = {"itype": self.itype, "lang": self.lang, "question": self.question}
        if self.options is not None:
            out["options"] = list(self.options)
        out["answer"] = self.answer
        return out
