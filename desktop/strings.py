"""Words the UI shows for the stored vocabulary (docs/CONTRACTS.md). A Chinese table can join
these later: look-ups go through `label()` so a language switch is one place."""

from __future__ import annotations

ITYPES = {
    "judgement": "Judgement",
    "multiple_choice": "Multiple choice",
    "short_vqa": "Short answer",
    "long_vqa": "Long answer",
}

STATUSES = {
    "new": "New",
    "ok": "Passed checks",
    "needs_review": "Needs review",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "needs_fix": "Needs fix",
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

ITYPE_COLORS = {
    "judgement": "#4e79a7",
    "multiple_choice": "#f28e2b",
    "short_vqa": "#59a14f",
    "long_vqa": "#b07aa1",
}

_TABLES = {"itype": ITYPES, "status": STATUSES}


def label(kind: str, value: str | None) -> str:
    if value is None:
        return "—"
    return _TABLES.get(kind, {}).get(value, value)


def domain_label(name: str | None) -> str:
    return name if name else "(no domain)"
