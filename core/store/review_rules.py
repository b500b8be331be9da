"""The rules a person's new question, options or answer must follow, by field and by
instruction type; a value that breaks one raises ReviewError saying why.

The review pane's edits, bulk find-and-replace and hand-added items all check values against
these same rules, so they live on their own rather than inside any one of those writers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.store.review_change import ReviewError

EDITABLE_INSTRUCTION_FIELDS = ("question", "options", "answer")

_JUDGEMENT = {"yes": "yes", "no": "no", "是": "是", "否": "否"}


def _judgement_answer(value: str, item: dict) -> str:
    got = _JUDGEMENT.get(value.strip().lower())
    if got is None:
        raise ReviewError("a judgement answer is yes or no (是 or 否 in Chinese)")
    return got


def _choice_answer(value: str, item: dict) -> str:
    letter = value.strip().upper().rstrip(".)")
    if letter not in ("A", "B", "C", "D"):
        raise ReviewError("a multiple-choice answer is one of the letters A, B, C, D")
    return letter


def _free_answer(value: str, item: dict) -> str:
    value = value.strip()
    if not value:
        raise ReviewError("the answer is empty")
    return value


_ANSWER_RULES: dict[str, Callable[[str, dict], str]] = {
    "judgement": _judgement_answer,
    "multiple_choice": _choice_answer,
    "short_vqa": _free_answer,
    "long_vqa": _free_answer,
}


def _question(value: Any, item: dict) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ReviewError("the question is empty")
    return value.strip()


def _answer(value: Any, item: dict) -> str:
    if not isinstance(value, str):
        raise ReviewError("the answer must be text")
    return _ANSWER_RULES.get(item["itype"], _free_answer)(value, item)


def _options(value: Any, item: dict) -> list[str]:
    if item["itype"] != "multiple_choice":
        raise ReviewError(f"a {item['itype']} instruction has no options")
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise ReviewError("a multiple-choice question has exactly four options (A-D)")
    cleaned = [str(v).strip() for v in value]
    if not all(cleaned):
        raise ReviewError("an option is empty")
    return cleaned


VALIDATORS: dict[str, Callable[[Any, dict], Any]] = {
    "question": _question,
    "answer": _answer,
    "options": _options,
}


def validate_value(field: str, value: Any, itype: str) -> Any:
    """The stored form of an instruction's new question, options or answer (a ReviewError
    says why it is refused): the rules a single edit follows, for bulk edits."""
    validate = VALIDATORS.get(field)
    if validate is None:
        raise ReviewError(f"cannot edit {field!r}")
    return validate(value, {"itype": itype})
