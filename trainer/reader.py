"""Records of an export folder as `Conversation`s, each with where it came from.

The project's format readers (`core.export.readers`) are the one source of truth for the
formats; the trainer adds only a location per record ("train.json, record 12") so that a
bad row found later (a missing image, a template failure) can be named precisely.
"""

from __future__ import annotations

from pathlib import Path

from trainer.errors import TrainerError


def read_conversations(path: str | Path, fmt: str | None = None) -> tuple[list, list[str]]:
    """(conversations, their locations), in file order (train before val/test)."""
    from core.errors import StudioError
    from core.export.formats import RecordError
    from core.export.readers import iter_records

    convs, where = [], []
    try:
        for file, index, item in iter_records(Path(path), fmt):
            loc = f"{file.name}, record {index + 1}"
            if isinstance(item, RecordError):
                raise TrainerError(f"{loc}: {item}")
            convs.append(item)
            where.append(loc)
    except StudioError as exc:
        raise TrainerError(str(exc)) from None
    return convs, where
