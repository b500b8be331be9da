"""The instruction-type registry: each type is one class in this package (see base.py).

`get(name)` answers every per-type question; `names()` lists the registered types in
registration order (the four built-ins first). Adding a type is one new module with a
subclass of `InstructionType` plus `register(MyType)` (docs/extending.md).
Pure: the trainer imports this package.
"""

from __future__ import annotations

from core.itypes.base import InstructionType
from core.itypes.judgement import Judgement
from core.itypes.long_vqa import LongVQA
from core.itypes.multiple_choice import MultipleChoice
from core.itypes.short_vqa import ShortVQA

_TYPES: dict[str, InstructionType] = {}


def register(cls: type[InstructionType]) -> type[InstructionType]:
    """Add a type; a second type under a name already taken is refused."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in _TYPES:
        raise ValueError(f"instruction type {cls.name!r} is already registered")
    _TYPES[cls.name] = cls()
    return cls


def unregister(name: str) -> None:
    """Remove a type added at run time (tests and plug-ins that undo themselves)."""
    _TYPES.pop(name, None)


def get(name: str) -> InstructionType:
    try:
        return _TYPES[name]
    except KeyError:
        raise ValueError(
            f"unknown instruction type {name!r}; expected one of {', '.join(_TYPES)}"
        ) from None


def names() -> tuple[str, ...]:
    return tuple(_TYPES)


def all_types() -> list[InstructionType]:
    return list(_TYPES.values())


def where(**attrs) -> tuple[str, ...]:
    """Names of the types whose class attributes equal `attrs` (e.g. scored=True)."""
    return tuple(
        t.name for t in _TYPES.values() if all(getattr(t, k) == v for k, v in attrs.items())
    )


def verifiable() -> tuple[str, ...]:
    return tuple(t.name for t in _TYPES.values() if t.verify_max_tokens)


def check_itype(itype: str) -> str:
    get(itype)
    return itype


for _cls in (Judgement, MultipleChoice, ShortVQA, LongVQA):
    register(_cls)

__all__ = ["InstructionType", "all_types", "check_itype", "get", "names", "register",
           "unregister", "verifiable", "where"]  # fmt: skip
