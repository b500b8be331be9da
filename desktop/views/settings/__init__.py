"""The Settings dialog (Tools > Settings…); importing this registers its menu action."""

from __future__ import annotations

from desktop.panels import MenuAction, register_action
from desktop.strings import N_


def open_settings(window) -> None:
    """Show the window's one Settings dialog (kept, so a download survives closing it)."""
    from desktop.views.settings.dialog import SettingsDialog

    dialog = getattr(window, "settings_dialog", None)
    if dialog is None:
        dialog = SettingsDialog(window.project, window)
        jobs = window.panels.get("jobs")
        if jobs is not None:
            dialog.backendsChanged.connect(jobs.reload_choices)
        window.settings_dialog = dialog
    dialog.open()
    dialog.raise_()


register_action(MenuAction("Tools", N_("Settings…"), open_settings, shortcut="Ctrl+,", order=10))
