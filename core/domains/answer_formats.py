"""Answer-format suffixes ("Answer with Yes or No.") per instruction type and language.

Exports append one to each question. The variant is chosen by a SHA-256 of the item's key, not
Python's salted `hash()`, so the same item gets the same suffix in every run and process.
A project may carry its own set (imported or edited); missing combinations fall back to the
bundled defaults in resources/answer_formats.yaml.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import yaml

from core.domains.mminstruct import END_PROMPT_KEYS, end_prompts_to_variants
from core.domains.model import ITYPES, LANGS, DomainError, SeedFormatError
from core.paths import resources_dir
from core.store import domains as store
from core.store.db import Database

# Chinese text runs on without a space; English needs one.
_JOINERS = {"en": " ", "zh": ""}


class AnswerFormats:
    """Suffix variants by (itype, lang). Lists are stripped, de-duplicated, never empty."""

    def __init__(self, variants: dict[str, dict[str, list[str]]], origin: str = "<memory>"):
        self.origin = origin
        self._variants: dict[tuple[str, str], tuple[str, ...]] = {}
        for itype, by_lang in variants.items():
            if itype not in ITYPES:
                raise SeedFormatError(f"{origin}: unknown instruction type {itype!r}")
            if not isinstance(by_lang, dict):
                raise SeedFormatError(f"{origin}: {itype} must map languages to lists")
            for lang, texts in by_lang.items():
                if lang not in LANGS:
                    raise SeedFormatError(f"{origin}: unknown language {lang!r} under {itype}")
                if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                    raise SeedFormatError(f"{origin}: {itype}.{lang} must be a list of strings")
                cleaned = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
                if not cleaned:
                    raise SeedFormatError(f"{origin}: {itype}.{lang} has no non-empty variant")
                self._variants[(itype, lang)] = tuple(cleaned)

    def variants(self, itype: str, lang: str) -> list[str]:
        found = self._variants.get((itype, lang))
        if found is None:
            raise DomainError(f"no answer formats for {itype}/{lang} in {self.origin}")
        return list(found)

    def combinations(self) -> list[tuple[str, str]]:
        return sorted(self._variants)

    def is_complete(self) -> bool:
        return all((t, lang) in self._variants for t in ITYPES for lang in LANGS)

    def suffix(self, itype: str, lang: str, item_key: str) -> str:
        options = self.variants(itype, lang)
        digest = hashlib.sha256(f"{itype}\x1f{lang}\x1f{item_key}".encode()).digest()
        return options[int.from_bytes(digest[:8], "big") % len(options)]

    def apply(self, question: str, itype: str, lang: str, item_key: str) -> str:
        """The question with its suffix; a question that already ends with it is left alone."""
        suffix = self.suffix(itype, lang, item_key)
        body = question.rstrip()
        if body.endswith(suffix):
            return body
        return f"{body}{_JOINERS.get(lang, ' ')}{suffix}"

    def over(self, base: AnswerFormats) -> AnswerFormats:
        """This set, with combinations it lacks taken from `base`."""
        merged = AnswerFormats({}, origin=f"{self.origin} over {base.origin}")
        merged._variants = dict(base._variants) | dict(self._variants)
        return merged

    def to_mapping(self) -> dict:
        out: dict[str, dict[str, list[str]]] = {}
        for (itype, lang), texts in sorted(self._variants.items()):
            out.setdefault(itype, {})[lang] = list(texts)
        return out

    def __eq__(self, other) -> bool:
        return isinstance(other, AnswerFormats) and self._variants == other._variants


def parse_answer_formats(doc, origin: str) -> AnswerFormats:
    """Our own document ({"formats": {itype: {lang: [...]}}}) or MMInstruct's end_prompt.json."""
    if not isinstance(doc, dict):
        raise SeedFormatError(f"{origin}: expected a mapping at the top level")
    if "formats" in doc:
        return AnswerFormats(doc["formats"] or {}, origin)
    if set(doc) & set(END_PROMPT_KEYS):
        return AnswerFormats(end_prompts_to_variants(doc, origin), origin)
    raise SeedFormatError(
        f"{origin}: not an answer-format file (expected 'formats' or the MMInstruct keys "
        f"{', '.join(END_PROMPT_KEYS)})"
    )


def load_answer_formats(path: Path | str) -> AnswerFormats:
    """Read a YAML or JSON answer-format file (either layout, see `parse_answer_formats`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedFormatError(f"{path}: cannot read: {exc}") from None
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SeedFormatError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}"
        ) from None
    return parse_answer_formats(doc, str(path))


@lru_cache(maxsize=1)
def default_answer_formats() -> AnswerFormats:
    formats = load_answer_formats(resources_dir() / "answer_formats.yaml")
    if not formats.is_complete():
        raise SeedFormatError(f"{formats.origin}: every type and language needs variants")
    return formats


def answer_suffix(
    itype: str, lang: str, item_key: str, formats: AnswerFormats | None = None
) -> str:
    """The suffix for one item: same (itype, lang, item_key) -> same text, in any process."""
    return (formats or default_answer_formats()).suffix(itype, lang, str(item_key))


def apply_answer_suffix(
    question: str, itype: str, lang: str, item_key: str, formats: AnswerFormats | None = None
) -> str:
    return (formats or default_answer_formats()).apply(question, itype, lang, str(item_key))


def save_answer_formats(formats: AnswerFormats, path: Path | str) -> Path:
    """Write a set as editable YAML in our layout."""
    path = Path(path)
    doc = {"version": 1, "formats": formats.to_mapping()}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# per project -----------------------------------------------------------------------------
def project_answer_formats(db: Database) -> AnswerFormats:
    """The project's own set over the defaults (or just the defaults when it has none)."""
    raw = store.load_answer_formats_json(db)
    if raw is None:
        return default_answer_formats()
    own = AnswerFormats(json.loads(raw), origin="project answer formats")
    return own.over(default_answer_formats())


def set_project_answer_formats(db: Database, formats: AnswerFormats | None) -> None:
    """Store a set in the project; None returns the project to the defaults."""
    document = None if formats is None else json.dumps(formats.to_mapping(), ensure_ascii=False)
    store.save_answer_formats_json(db, document)


def import_answer_formats(db: Database, path: Path | str) -> AnswerFormats:
    """Load a file (ours or MMInstruct's end_prompt.json) and make it the project's set."""
    formats = load_answer_formats(path)
    set_project_answer_formats(db, formats)
    return project_answer_formats(db)
