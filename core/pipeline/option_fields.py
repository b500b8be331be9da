"""What each stage option is, for the front-ends: read from the options dataclass itself.

An option is a dataclass field declared with `opt(...)`, whose metadata says its label (the
Jobs form; English, the GUI translates it), its CLI flag and help, its choices and bounds.
`fields_of(cls)` turns a `RunOptions` subclass into `OptionField`s; the CLI's `mmstudio run`
adds a flag per field and builds the chosen stage's own options from them (`from_cli`), the
Jobs form builds a widget per field (desktop/views/option_widgets.py). A new stage's options
therefore appear in both without front-end code. No Qt, no argparse at import.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass

from core.errors import StudioError

KINDS = ("bool", "int", "float", "text", "choice", "choices", "counts", "ids")


def opt(default=MISSING, *, default_factory=MISSING, label: str = "", help: str = "",
        flag: str | None = "", kind: str | None = None, choices=None,
        choice_labels: dict | None = None, minimum: float | None = None,
        maximum: float | None = None, special: str | None = None, decimals: int = 2,
        prefix: str = "", form: bool = True, noun: str = "", vocabulary: str = ""):  # fmt: skip
    """A stage option field. `flag`: the CLI flag ("" derives --the-name; None: none);
    `choices`: a tuple or a function returning one (read when asked: registries grow);
    `special`: the words for "not set" (None or 0) in the form; `form`: False keeps it off
    the Jobs form (the form's scope sets it, or it is for scripts); `vocabulary`: the
    core.vocab kind its values are ("itype", "status"), which the GUI labels itself."""
    meta = {"label": label, "help": help, "flag": flag, "kind": kind, "choices": choices,
            "choice_labels": choice_labels or {}, "minimum": minimum, "maximum": maximum,
            "special": special, "decimals": decimals, "prefix": prefix, "form": form,
            "noun": noun, "vocabulary": vocabulary}  # fmt: skip
    return dataclasses.field(
        default=default, default_factory=default_factory, metadata={"option": meta}
    )


@dataclass(frozen=True)
class OptionField:
    name: str
    kind: str
    default: object
    optional: bool  # None is a value (not set: the stage decides)
    label: str
    help: str
    flag: str | None
    choices_of: Callable[[], tuple[str, ...]] | tuple | None
    choice_labels: dict
    minimum: float | None
    maximum: float | None
    special: str | None
    decimals: int
    prefix: str
    form: bool
    noun: str  # for "unknown NOUN x; expected ..."
    vocabulary: str

    @property
    def choices(self) -> tuple[str, ...]:
        c = self.choices_of
        return tuple(c() if callable(c) else c or ())


def _kind(hint) -> tuple[str, bool]:
    args = typing.get_args(hint)
    optional = type(None) in args
    if optional:
        (hint,) = [a for a in args if a is not type(None)]
    origin = typing.get_origin(hint) or hint
    if origin is list:
        (item,) = typing.get_args(hint) or (str,)
        return ("ids" if item is int else "choices"), optional
    names = {bool: "bool", int: "int", float: "float", str: "text", dict: "counts"}
    return names.get(origin, "text"), optional


def fields_of(cls) -> list[OptionField]:
    """The options of a RunOptions subclass, in declaration order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("option", {})
        kind, optional = _kind(hints[f.name])
        kind = meta.get("kind") or ("choice" if kind == "text" and meta.get("choices") else kind)
        default = f.default if f.default is not MISSING else f.default_factory()
        flag = meta.get("flag", "")
        out.append(OptionField(
            f.name, kind, default, optional, meta.get("label") or f.name.replace("_", " "),
            meta.get("help", ""), "--" + f.name.replace("_", "-") if flag == "" else flag,
            meta.get("choices"), meta.get("choice_labels", {}), meta.get("minimum"),
            meta.get("maximum"), meta.get("special"), meta.get("decimals", 2),
            meta.get("prefix", ""), meta.get("form", True), meta.get("noun") or f.name,
            meta.get("vocabulary", ""),
        ))  # fmt: skip
    return out


def form_fields(cls) -> list[OptionField]:
    return [f for f in fields_of(cls) if f.form]


class PipelineError(StudioError):
    """A stage cannot run as asked: unknown stage or option, bad selection, no backend
    (core.pipeline.options re-exports it, where callers import it from)."""


class OptionError(PipelineError):
    """A value given for an option cannot be read."""


# the command line ---------------------------------------------------------------------------


def add_arguments(parser, classes) -> None:
    """One flag per option of `classes` (a field shared by several stages once). Each is
    None unless given, so `from_cli` knows what the user chose."""
    import argparse

    seen: set[str] = set()
    for cls in classes:
        for f in fields_of(cls):
            if f.flag is None or f.name in seen:
                continue
            seen.add(f.name)
            kw: dict = {"dest": f.name, "default": None, "help": f.help or f.label}
            if f.kind == "bool":
                kw["action"] = argparse.BooleanOptionalAction if f.default else "store_true"
            elif f.kind in ("int", "float"):
                kw["type"] = int if f.kind == "int" else float
            elif f.kind == "choice" and not callable(f.choices_of):
                kw["choices"] = f.choices
            parser.add_argument(f.flag, **kw)


def from_cli(cls, args, classes, stage: str) -> dict:
    """The values the user gave for stage `stage`'s options `cls`; a flag of another stage's
    option is refused (it would do nothing)."""
    mine = {f.name: f for f in fields_of(cls)}
    values = {}
    for other in classes:
        for f in fields_of(other):
            given = getattr(args, f.name, None)
            if given is None or f.flag is None:
                continue
            if f.name not in mine:
                raise OptionError(
                    f"{f.flag} is not an option of stage {stage} "
                    f"(it takes {', '.join(sorted(x.flag for x in mine.values() if x.flag))})"
                )
            values[f.name] = parse(mine[f.name], given)
    return values


def parse(f: OptionField, given):
    """A CLI value as the option's type: comma lists, name=number pairs, checked choices."""
    if f.kind == "ids":
        return _ids(f.flag, given, f.noun)
    if f.kind == "choices":
        items = [t.strip() for t in str(given).split(",") if t.strip()]
        if not items:
            raise OptionError(f"{f.flag}: give a comma-separated list of {', '.join(f.choices)}")
        return items  # the options' validate() names unknown ones
    if f.kind == "counts":
        return _counts(f, given)
    if f.kind == "choice" and f.choices and given not in f.choices:
        raise OptionError(f"{f.flag}: {given!r} is not one of {', '.join(f.choices)}")
    return given


def _ids(flag: str, text: str, noun: str) -> list[int]:
    ids = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            ids.append(int(part))
        except ValueError:
            raise OptionError(
                f"{flag}: {part!r} is not an {noun} id; expected numbers like 1,2,3"
            ) from None
    if not ids:
        raise OptionError(f"{flag}: no {noun} id given; expected numbers like 1,2,3")
    return sorted(set(ids))


def _counts(f: OptionField, text: str) -> dict:
    out = dict(f.default or {})
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, eq, value = part.partition("=")
        if not eq or not value.strip().isdigit():
            raise OptionError(f"{f.flag}: {part!r} is not NAME=NUMBER (e.g. judgement=4)")
        if out and name.strip() not in out:
            raise OptionError(f"{f.flag}: unknown {name.strip()!r}; expected {', '.join(out)}")
        out[name.strip()] = int(value)
    return out


def check_choices(options) -> None:
    """Every listed value of a list option is one of its choices (the front-ends give lists
    from the CLI or from check boxes; a stored job's params from an older version)."""
    for f in fields_of(type(options)):
        value = getattr(options, f.name)
        if f.kind != "choices" or not value or not f.choices:
            continue
        unknown = [v for v in value if v not in f.choices]
        if unknown:
            raise OptionError(
                f"unknown {f.noun} {', '.join(map(str, unknown))}; expected {', '.join(f.choices)}"
            )
