"""Vocabulary, errors and validation shared by the taxonomy code (see docs/CONTRACTS.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core import itypes
from core.errors import StudioError
from core.vocab import ITYPES, LANGS  # noqa: F401  (ITYPES: re-exported for core.domains)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class DomainError(StudioError):
    """A taxonomy operation that cannot be done as asked (unknown name, in use, bad value)."""


class SeedFormatError(DomainError):
    """A seed or answer-format file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class DomainSpec:
    """A domain as written in resources/domains.yaml (or given by a user)."""

    name: str
    title: str
    description: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)
    position: int | None = None


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DomainError(
            f"invalid domain name {name!r}: use lower-case letters, digits and underscores, "
            "starting with a letter (at most 64 characters)"
        )
    return name


def check_itype(itype: str) -> str:
    known = itypes.names()  # the built-ins and any type registered later
    if itype not in known:
        raise DomainError(f"unknown instruction type {itype!r}; expected one of {', '.join(known)}")
    return itype


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise DomainError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    return lang


def clean_text(text: str, what: str = "seed text") -> str:
    """Strip surrounding whitespace (published seeds carry trailing blanks); refuse empty text."""
    if not isinstance(text, str):
        raise DomainError(f"{what} must be a string, got {type(text).__name__}")
    cleaned = text.strip()
    if not cleaned:
        raise DomainError(f"{what} is empty")
    return cleaned


def slug(text: str) -> str:
    """A snake_case id from free text (file names, titles): 'Image Style' -> 'image_style'."""
    s = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
    if s and not s[0].isalpha():
        s = "d_" + s
    return s[:64]


def title_from_name(name: str) -> str:
    return name.replace("_", " ").capitalize()
