"""The desktop's own per-user preferences (`desktop.yaml` in the user folder; MMSTUDIO_HOME
overrides the folder). Backends and prices have their own files in core.backends."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from core.errors import StudioError
from core.paths import user_home
from desktop.strings import tr

FILE_NAME = "desktop.yaml"
LANGUAGES = {"en": "English", "zh": "中文 (Chinese)"}
# confirm_cost_usd: the Jobs form asks before starting a run estimated to cost more than this
DEFAULTS = {"language": "en", "confirm_cost_usd": 1.0}


class UiSettingsError(StudioError):
    pass


def ui_settings_path() -> Path:
    return user_home() / FILE_NAME


def load_ui_settings() -> dict:
    """The saved preferences over the defaults; an unreadable file counts as defaults."""
    path = ui_settings_path()
    if not path.is_file():
        return dict(DEFAULTS)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return dict(DEFAULTS)
    if not isinstance(raw, dict):
        return dict(DEFAULTS)
    return DEFAULTS | {k: v for k, v in raw.items() if k in DEFAULTS}


def save_ui_settings(**changes) -> dict:
    unknown = set(changes) - set(DEFAULTS)
    if unknown:
        raise UiSettingsError(
            tr("unknown interface settings: {names}", names=", ".join(sorted(unknown)))
        )
    if "language" in changes and changes["language"] not in LANGUAGES:
        raise UiSettingsError(
            tr(
                "interface language must be one of {languages}, not {language!r}",
                languages=", ".join(LANGUAGES),
                language=changes["language"],
            )
        )
    if "confirm_cost_usd" in changes:
        value = changes["confirm_cost_usd"]
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise UiSettingsError(
                tr("the confirmation threshold must be a number of dollars, 0 or more")
            )
    merged = load_ui_settings() | changes
    path = ui_settings_path()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".desktop-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(merged, fh, sort_keys=True, allow_unicode=True)
    os.replace(tmp, path)
    return merged
