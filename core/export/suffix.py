"""Answer-format suffixes ("Answer with the option's letter ...") appended to questions.

core.domains owns the suffix texts and the picker (`answer_suffix(itype, lang, item_key)`,
deterministic per item); a project may carry its own set over the bundled one. This module
finds the project's picker when core.domains provides it, so the export code does not depend
on its internals.
"""

from __future__ import annotations

from collections.abc import Callable

SuffixFn = Callable[[str, str, str], str]
AUTO = "auto"


def project_suffix_fn(db) -> SuffixFn | None:
    try:
        from core.domains import answer_formats
    except ImportError:
        return None
    project_formats = getattr(answer_formats, "project_answer_formats", None)
    if project_formats is not None and db is not None:
        return project_formats(db).suffix
    return getattr(answer_formats, "answer_suffix", None)


def resolve(suffix, db=None) -> SuffixFn | None:
    """`AUTO` -> the project's picker if present; None -> no suffixes; a callable -> itself."""
    if suffix == AUTO:
        return project_suffix_fn(db)
    if suffix is None or callable(suffix):
        return suffix
    raise TypeError("suffix must be 'auto', None or a function (itype, lang, item_key) -> str")


def variants_of(fn) -> dict[tuple[str, str], list[str]] | None:
    """The variant lists behind a picker that is `AnswerFormats.suffix` of core.domains, so
    the store can pick in SQL (it checks its picks against `fn` on a sample first)."""
    owner = getattr(fn, "__self__", None)
    if getattr(fn, "__name__", "") != "suffix" or owner is None:
        return None
    try:
        return {c: list(owner.variants(*c)) for c in owner.combinations()}
    except Exception:  # not the object we think it is: the per-row path stays correct
        return None
