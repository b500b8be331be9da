"""The Chinese table of the UI (desktop.strings): English text -> 中文, one module per room so
each stays short. Placeholders ({n:,}, {name}) are the same on both sides."""

from __future__ import annotations

from desktop.i18n.zh_backups import ZH_BACKUPS
from desktop.i18n.zh_browse import ZH_BROWSE
from desktop.i18n.zh_bulk import ZH_BULK
from desktop.i18n.zh_collect import ZH_COLLECT
from desktop.i18n.zh_items import ZH_ITEMS
from desktop.i18n.zh_jobs import ZH_JOBS
from desktop.i18n.zh_projects import ZH_PROJECTS
from desktop.i18n.zh_review import ZH_REVIEW
from desktop.i18n.zh_settings import ZH_SETTINGS
from desktop.i18n.zh_training import ZH_TRAINING

ZH: dict[str, str] = {
    **ZH_BACKUPS,
    **ZH_BROWSE,
    **ZH_BULK,
    **ZH_COLLECT,
    **ZH_ITEMS,
    **ZH_JOBS,
    **ZH_REVIEW,
    **ZH_PROJECTS,
    **ZH_SETTINGS,
    **ZH_TRAINING,
}
