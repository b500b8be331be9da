"""Registries that let other parts add tabs, docks and menu actions to the main window.

A part registers from its own module and appends that module to PANEL_MODULES (the same
pattern as core.cli.COMMAND_MODULES); the window imports them when it is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from desktop.strings import N_

AREAS = ("tab", "left", "right", "bottom")  # a tab beside "Browse & review", or a dock


@dataclass(frozen=True)
class Panel:
    name: str
    title: str  # English, marked with N_(); the window shows it translated
    factory: Callable  # (MainWindow) -> QWidget; import heavy modules inside it
    area: str = "tab"
    order: int = 100


@dataclass(frozen=True)
class MenuAction:
    menu: str  # "File", "Edit", "Review", "View", "Tools", "Help" or a new one
    text: str  # English, marked with N_() like Panel.title
    run: Callable  # (MainWindow) -> None
    shortcut: str | None = None
    order: int = 100


PANELS: dict[str, Panel] = {}
ACTIONS: list[MenuAction] = []

# Modules whose import registers panels or actions (jobs and training panels add theirs here).
PANEL_MODULES: list[str] = [
    "desktop.views.training_panel",
    "desktop.views.jobs_panel",
    "desktop.views.settings",
    "desktop.views.collect_panel",
    "desktop.views.backups",
    "desktop.views.caption_import",
    "desktop.views.curate_panel",
    "desktop.views.balance_panel",
    "desktop.views.bulk_actions",
    "desktop.views.domain_actions",
    "desktop.views.start_page",
    "desktop.views.instruction_table",
]


def register_panel(panel: Panel) -> None:
    if panel.area not in AREAS:
        raise ValueError(f"panel {panel.name!r}: area must be one of {', '.join(AREAS)}")
    PANELS[panel.name] = panel


def register_action(action: MenuAction) -> None:
    ACTIONS.append(action)


def load_panel_modules() -> None:
    for name in PANEL_MODULES:
        importlib.import_module(name)


def _stats(window):
    from desktop.views.stats_view import StatsView

    return StatsView(window.project, window)


register_panel(Panel("stats", N_("Stats"), _stats, order=50))
