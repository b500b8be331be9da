"""The error collection raises for bad input: a message fit to show the user as-is."""

from __future__ import annotations

from core.errors import StudioError


class CollectError(StudioError):
    pass
