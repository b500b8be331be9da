"""Output constraints per instruction type: JSON schemas and GBNF grammars.

A local llama.cpp model sampled under these constraints can only write text that the parsers
read: the tagged grammar fixes the tag sequence, four lettered options and a letter (or
yes/no) answer; the JSON schema fixes the item count and the answer values. Judgement items
alternate yes/no so that the balance the paper asks for (2 yes / 2 no) holds by construction.

llama_cpp.server (0.3.x) takes `grammar` (GBNF text) as an extra request field and
`response_format={"type": "json_object", "schema": ...}`; it has no "json_schema" type and
silently falls back to free JSON when a schema fails to convert, so tests convert ours with
llama_cpp's own converter. OpenAI-style servers take `{"type": "json_schema", ...}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core import itypes
from core.backends.base import GRAMMAR, JSON_SCHEMA, Capabilities
from core.pipeline.items import LETTERS, check_itype, check_lang

# Longest string a constrained model may write per field in the tagged grammar (GBNF counts
# natively). JSON schemas get no maxLength unless asked: llama.cpp's converter unrolls it into
# nested optional rules, one per character.
DEFAULT_MAX_CHARS = {"question": 300, "option": 120, "answer": 1500}
_NO_LIMIT = {"question": None, "option": None, "answer": None}


def _string(max_chars: int | None) -> dict:
    schema: dict = {"type": "string", "minLength": 1}
    if max_chars:
        schema["maxLength"] = max_chars
    return schema


def _item_schema(itype: str, lang: str, max_chars: dict, answer: str | None = None) -> dict:
    kind = itypes.get(itype)
    props: dict = {"question": _string(max_chars["question"])}
    required = ["question"]
    if kind.has_options:
        props["options"] = {
            "type": "array",
            "items": _string(max_chars["option"]),
            "minItems": 4,
            "maxItems": 4,
        }
        required.append("options")
    props["answer"] = kind.answer_schema(lang, answer, _string(max_chars["answer"]))
    required.append("answer")
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def json_schema(
    itype: str,
    lang: str,
    n: int,
    *,
    balanced: bool = True,
    max_chars: dict | None = None,
) -> dict:
    """The generation schema: `{"items": [exactly n items]}`.

    balanced: judgement answers alternate yes, no, yes, ... through prefixItems (llama.cpp and
    jsonschema both honour it; OpenAI's strict mode does not, so pass balanced=False there).
    """
    check_itype(itype)
    check_lang(lang)
    limits = _NO_LIMIT | (max_chars or {})
    array: dict = {"type": "array", "minItems": n, "maxItems": n}
    answers = itypes.get(itype).balanced_answers(lang, n) if balanced else None
    if answers:
        array["prefixItems"] = [_item_schema(itype, lang, limits, a) for a in answers]
        array["items"] = False
    else:
        array["items"] = _item_schema(itype, lang, limits)
    return {
        "type": "object",
        "properties": {"items": array},
        "required": ["items"],
        "additionalProperties": False,
    }


def item_shape_schema(itype: str) -> dict:
    """What the JSON parser insists on: the fields and their types. Values (letters, yes/no,
    four options) are left to the normalizers and the checks, which give reasons."""
    check_itype(itype)
    props: dict = {"question": {"type": "string"}, "answer": {"type": ["string", "boolean"]}}
    required = ["question", "answer"]
    if itypes.get(itype).has_options:
        props["options"] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
        required.append("options")
    return {"type": "object", "properties": props, "required": required}


# GBNF for the tagged format ---------------------------------------------------------------


def gbnf_tagged(itype: str, lang: str, n: int, max_chars: dict | None = None) -> str:
    """A GBNF grammar whose every sentence is n well-formed tagged items."""
    kind = itypes.get(itype)
    check_lang(lang)
    limits = DEFAULT_MAX_CHARS | (max_chars or {})
    rules = [
        "root ::= " + " ".join(f"item{i}" for i in range(1, n + 1)),
        f"qtext ::= {_chars(limits['question'])}",
        f"otext ::= {_chars(limits['option'])}",
        f"atext ::= {_chars(limits['answer'])}",
    ]
    for i in range(1, n + 1):
        parts = [f'"<Q{i}>" qtext "</Q{i}>\\n"']
        if kind.has_options:
            opts = ' "\\n" '.join(f'"{letter}. " otext' for letter in LETTERS)
            parts.append(f'"<C{i}>" {opts} "</C{i}>\\n"')
        answer = kind.gbnf_answer(i, lang)
        parts.append(f'"<A{i}>" {answer} "</A{i}>\\n"')
        rules.append(f"item{i} ::= " + " ".join(parts))
    return "\n".join(rules) + "\n"


def _chars(max_chars: int) -> str:
    # No '<' (it would open a tag) and no newline inside a field; the first char is not a space.
    return f"[^<\\n ] [^<\\n]{{0,{max(0, max_chars - 1)}}}"


# Request fields per backend capability and output format ------------------------------------


@dataclass
class Constraint:
    """What to put on a ChatRequest: its json_schema field and/or extra body fields."""

    json_schema: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self.json_schema is None and not self.extra


def request_constraints(
    capabilities, fmt: str, itype: str, lang: str, n: int, max_chars: dict | None = None
) -> Constraint:
    """The constraint for one generate request, from what the backend can enforce (its
    effective `Capabilities`: the kind's, as its preset narrows them). A format it cannot constrain sends none and relies on the tolerant parser (the paper's
    tagged format on a cloud model)."""
    caps = capabilities
    if fmt == "tagged" and GRAMMAR in caps.constraints:
        # A field the SDK does not know; the openai kind forwards it in the request body.
        return Constraint(extra={"grammar": gbnf_tagged(itype, lang, n, max_chars)})
    if fmt == "json" and JSON_SCHEMA in caps.constraints:
        schema = json_schema(itype, lang, n, balanced=caps.schema_prefix_items, max_chars=max_chars)
        return Constraint(json_schema=schema)
    return Constraint()


def verify_constraint(capabilities: Capabilities, itype: str, lang: str) -> dict:
    """Extra request fields for verify's one-word reply: a grammar where one is enforced."""
    grammar = gbnf_answer(itype, lang)
    if grammar and GRAMMAR in capabilities.constraints:
        return {"grammar": grammar}
    return {}


def gbnf_answer(itype: str, lang: str) -> str | None:
    """A grammar for the verify stage's one-word answers (letter, yes/no), else None."""
    return itypes.get(itype).verify_grammar(lang)
