"""Training data out and in: writers per format, readers, validation, manifest, import.

Public entry points (imported lazily so that `core.export.readers` stays light for trainer/):
  export_project(project, out, ExportOptions(...)) -> ExportResult      core.export.writer
  iter_conversations(path, fmt=None) / detect_format(path)             core.export.readers
  validate_path(path, fmt=None) -> ValidationReport                    core.export.validate
  import_data(project, path, fmt=None, domain=None) -> DataImportSummary  core.export.importer
"""

from __future__ import annotations

import importlib

_LAZY = {
    "export_project": "core.export.writer",
    "ExportOptions": "core.export.writer",
    "ExportResult": "core.export.writer",
    "iter_conversations": "core.export.readers",
    "detect_format": "core.export.readers",
    "Conversation": "core.export.conversation",
    "validate_path": "core.export.validate",
    "ValidationReport": "core.export.validate",
    "import_data": "core.export.importer",
    "DataImportSummary": "core.export.importer",
    "ExportError": "core.export.errors",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'core.export' has no attribute {name!r}")
