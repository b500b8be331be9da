"""Words the UI shows, in English or Chinese.

English text is the key: widgets call `tr("Refresh")` or `tr("{n:,} images", n=n)`, and the
Chinese table (desktop/i18n) maps each English text to its translation with the same
{placeholders}. Tables built at import time mark their words with `N_()` and translate them
where they are shown, because the language is chosen at start-up, after modules are imported
(desktop.app calls `set_language` before it builds any widget). tests/desktop/test_language.py
reads every tr/trn/N_ literal in desktop/ and checks the table has it.
"""

from __future__ import annotations

from core import itypes as _itypes

LANGUAGES = ("en", "zh")

_state = {"lang": "en", "table": {}}


def set_language(lang: str) -> None:
    """Show the UI in `lang` ("en" or "zh") from now on; text already on screen stays."""
    if lang not in LANGUAGES:
        raise ValueError(f"interface language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    if lang == "zh":
        from desktop.i18n import ZH

        table = ZH
    else:
        table = {}
    _state.update(lang=lang, table=table)


def language() -> str:
    return _state["lang"]


def N_(text: str) -> str:  # noqa: N802  (the gettext name for "translate where shown")
    """Marks a word for the table without translating it yet."""
    return text


def tr(text: str, /, **values) -> str:
    """`text` in the current language, with `values` filled into its {placeholders}."""
    out = _state["table"].get(text, text)
    return out.format(**values) if values else out


def trn(singular: str, plural: str, n: int, /, **values) -> str:
    """English picks the singular for n == 1; Chinese has one form (the plural's entry)."""
    text = plural if n != 1 or _state["lang"] == "zh" else singular
    return tr(text, n=n, **values)


# Labels and colours of the instruction types come from their classes (core.itypes). The
# built-ins' labels are marked here too, so the table scan (tests/desktop/test_language.py)
# keeps their Chinese entries; test_itype_labels.py checks every registered label has one.
_MARKED = (N_("Judgement"), N_("Multiple choice"), N_("Short answer"), N_("Long answer"))
ITYPES = {t.name: t.label for t in _itypes.all_types()}

STATUSES = {
    "new": N_("New"),
    "ok": N_("Passed checks"),
    "needs_review": N_("Needs review"),
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
    "needs_fix": N_("Needs fix"),
}

ORIGINS = {
    "generated": N_("generated"),
    "imported": N_("imported"),
    "expanded": N_("expanded"),
    "manual": N_("manual"),
}

# Colours per status, shared by the grid badges, the review pane chips and the charts.
STATUS_COLORS = {
    "new": "#8a8f98",
    "ok": "#5b9bd5",
    "needs_review": "#e0a030",
    "accepted": "#3c9a5f",
    "rejected": "#c8463d",
    "needs_fix": "#9b59b6",
}

ITYPE_COLORS = {t.name: t.color for t in _itypes.all_types()}

_TABLES = {"itype": ITYPES, "status": STATUSES, "origin": ORIGINS}


def label(kind: str, value: str | None) -> str:
    if value is None:
        return "—"
    return tr(_TABLES.get(kind, {}).get(value, value))


def _default_titles() -> dict[str, str]:
    if "default_titles" not in _state:
        from core.domains.defaults import default_domains

        _state["default_titles"] = {d.name: d.title for d in default_domains()}
    return _state["default_titles"]


def domain_title(name: str | None, title: str | None = None) -> str:
    """A domain as shown: its `title` (else its name); in Chinese, a default domain whose
    title is still the bundled English one shows the Chinese title (desktop/i18n/domain_titles).
    A title a person gave stays as typed in every language."""
    if not name:
        return tr("(no domain)")
    if _state["lang"] == "zh":
        from desktop.i18n.domain_titles import ZH_DOMAIN_TITLES

        zh = ZH_DOMAIN_TITLES.get(name)
        if zh and (title is None or title == _default_titles().get(name)):
            return zh
    return title or name


def domain_label(name: str | None) -> str:
    """A domain known by its name only (a grid tile, a list): its name, or in Chinese the
    Chinese title of a default domain."""
    return domain_title(name) if name and _state["lang"] == "zh" else (name or tr("(no domain)"))
