"""Errors of export, import and validation, shown to the user as they are."""

from core.errors import StudioError


class ExportError(StudioError):
    pass
