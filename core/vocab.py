"""The shared vocabulary: every kind of value the rooms store or exchange, named once.

Members are `str` subclasses whose value is the stored string (docs/CONTRACTS.md), so a member
compares equal to the string, binds as a DuckDB parameter and serialises to the same JSON.
Pure: no DuckDB, Qt, torch or backend imports, because the trainer imports it too.

Instruction types are listed here for code that names one; which types exist at run time
(built-ins plus any registered later) is `core.itypes.names()`.
"""

from __future__ import annotations

from enum import StrEnum


class InstructionType(StrEnum):
    JUDGEMENT = "judgement"
    MULTIPLE_CHOICE = "multiple_choice"
    SHORT_VQA = "short_vqa"
    LONG_VQA = "long_vqa"


class Language(StrEnum):
    EN = "en"
    ZH = "zh"


class ItemStatus(StrEnum):
    """An instruction's status: machine states first, then a person's decisions."""

    NEW = "new"
    OK = "ok"
    NEEDS_REVIEW = "needs_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    NEEDS_FIX = "needs_fix"


class ImageStatus(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    NEEDS_FIX = "needs_fix"


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    BUDGET = "budget"
    CANCELLED = "cancelled"
    DONE = "done"
    FAILED = "failed"


class JobItemState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Origin(StrEnum):
    GENERATED = "generated"
    IMPORTED = "imported"
    EXPANDED = "expanded"
    MANUAL = "manual"


class StageName(StrEnum):
    """The pipeline stages `mmstudio run` knows, in pipeline order."""

    OCR = "ocr"
    CAPTION = "caption"
    GENERATE = "generate"
    CHECK = "check"
    VERIFY = "verify"
    BLIND = "blind"
    EXPAND = "expand"


def values(kind: type[StrEnum]) -> tuple[str, ...]:
    """The stored strings of a vocabulary, in declaration order (plain str, for SQL lists)."""
    return tuple(m.value for m in kind)


ITYPES = values(InstructionType)
LANGS = values(Language)
ITEM_STATUSES = values(ItemStatus)
IMAGE_STATUSES = values(ImageStatus)
# Statuses a machine stage may still change; a person's decision is left alone.
MACHINE_STATUSES = (ItemStatus.NEW.value, ItemStatus.OK.value, ItemStatus.NEEDS_REVIEW.value)
DECISIONS = (ItemStatus.ACCEPTED.value, ItemStatus.REJECTED.value, ItemStatus.NEEDS_FIX.value)
JOB_STATES = values(JobStatus)
ITEM_STATES = values(JobItemState)
ORIGINS = values(Origin)
STAGE_NAMES = values(StageName)

LETTERS = ("A", "B", "C", "D")
# Judgement answers as stored: yes/no in English, 是/否 in Chinese.
YES = {Language.EN.value: "yes", Language.ZH.value: "是"}
NO = {Language.EN.value: "no", Language.ZH.value: "否"}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected en or zh")
    return lang
