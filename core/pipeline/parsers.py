"""Parsers for model output: the paper's tagged format and a JSON format.

Tagged: `<Q1>question</Q1><C1>A. .. B. ..</C1><A1>answer</A1>`, as models really write it:
spaces inside tags, full-width brackets, missing closers, options inline or one per line,
options in the question when the C tag is missing, answers such as "(B)" or "答案：B".
A plain fallback reads "Q1: ... / A1: ..." and "Question: ... / Answer: ..." blocks.

Both parsers return every usable item plus a reason for each one they skipped, and raise
ParseError (with a reason) only when nothing usable is left. Answer values they cannot map to a
canonical form are kept as written so that the checks flag them for a person.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from core import itypes
from core.itypes.answers import clean_field as _clean
from core.pipeline.items import Item, check_itype, check_lang


class ParseError(ValueError):
    """The output held no usable item; str(err) says why."""


@dataclass
class Parsed:
    items: list[Item]
    skipped: list[str] = field(default_factory=list)  # one reason per dropped item


_TAG = re.compile(r"[<＜]\s*(/?)\s*([QCAqca])\s*([0-9０-９]*)\s*[>＞]")
_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*\n?|\n?\s*```\s*$")
_PLAIN = re.compile(
    r"^[ \t>*#-]*(?:\*\*)?(?P<kind>Q\d+|A\d+|C\d+|Question\s*\d*|Answer\s*\d*|Options?|Choices|"
    r"问题\s*\d*|答案\s*\d*|选项)(?:\*\*)?\s*[:：.](?:\*\*)?[ \t]*",
    re.I | re.M,
)
_Q_LABEL = re.compile(r"^\s*(?:question|问题|Q)\s*\d*\s*[:：]\s*", re.I)
_A_LABEL = re.compile(r"^\s*(?:answer|答案|A)\s*\d*\s*[:：]\s*", re.I)


def parse_tagged(text: str, itype: str, lang: str) -> Parsed:
    check_itype(itype)
    check_lang(lang)
    body = _FENCE.sub("", text or "").strip()
    if not body:
        raise ParseError("the output is empty")
    blocks = _tag_blocks(body)
    if not blocks:
        blocks = _plain_blocks(body)
    if not blocks:
        raise ParseError("no <Q1>…</Q1> tags and no 'Question:/Answer:' lines found")
    return _build(blocks, itype, lang)


def _tag_blocks(body: str) -> list[dict]:
    """Group tag contents into items: each Q opens an item, C and A attach to the open one."""
    tags = list(_TAG.finditer(body))
    if not any(t.group(2).upper() == "Q" for t in tags):
        return []
    blocks: list[dict] = []
    open_kind, open_end, open_num = None, 0, ""
    last_end = 0

    def store(kind: str, content: str, closed: bool, num: str) -> None:
        if kind == "Q" or not blocks:
            blocks.append({"num": num, "notes": []})
        block = blocks[-1]
        if kind in block:
            block["notes"].append(f"a second <{kind}> in one item was ignored")
            return
        block[kind] = content
        if not closed:
            block["notes"].append(f"missing </{kind}{num}>")

    for tag in tags:
        closing, kind, num = tag.group(1) == "/", tag.group(2).upper(), tag.group(3)
        if closing:
            if open_kind is not None:
                store(open_kind, body[open_end : tag.start()], open_kind == kind, open_num)
                open_kind = None
            elif body[last_end : tag.start()].strip():
                # A closer with no opener: take the text since the previous tag.
                store(kind, body[last_end : tag.start()], True, num)
                blocks[-1]["notes"].append(f"missing <{kind}{num}>")
        else:
            if open_kind is not None:
                store(open_kind, body[open_end : tag.start()], False, open_num)
            open_kind, open_end, open_num = kind, tag.end(), num
        last_end = tag.end()
    if open_kind is not None:
        store(open_kind, body[open_end:], False, open_num)
        blocks[-1]["at_end"] = True
    return blocks


def _plain_blocks(body: str) -> list[dict]:
    marks = list(_PLAIN.finditer(body))
    blocks: list[dict] = []
    for i, m in enumerate(marks):
        kind = m.group("kind")[0].upper()
        kind = {"问": "Q", "答": "A", "选": "C", "O": "C"}.get(kind, kind)
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        content = body[m.end() : stop]
        if kind == "Q" or not blocks:
            blocks.append({"num": "", "notes": ["plain 'Question:/Answer:' layout, no tags"]})
        blocks[-1].setdefault(kind, content)
    return blocks


def _build(blocks: list[dict], itype: str, lang: str) -> Parsed:
    kind = itypes.get(itype)
    items, skipped = [], []
    for n, block in enumerate(blocks, start=1):
        question = _clean(_Q_LABEL.sub("", block.get("Q", "")))
        answer = _clean(_A_LABEL.sub("", block.get("A", "")))
        if not question:
            skipped.append(f"item {n}: no question")
            continue
        if "A" not in block or not answer:
            why = "the output ended before the answer" if block.get("at_end") else "no answer"
            skipped.append(f"item {n}: {why}")
            continue
        item = Item(itype, lang, question, answer, index=n, notes=list(block["notes"]))
        kind.read_tagged(item, block.get("C"))
        items.append(item)
    if not items:
        raise ParseError("no complete item: " + "; ".join(skipped))
    return Parsed(items, skipped)


# JSON ------------------------------------------------------------------------------------


def parse_json(text: str, itype: str, lang: str) -> Parsed:
    """`{"items": [...]}` or a bare list, fenced or not; each item checked against the shape
    schema of its type (grammar.item_shape_schema); bad items are skipped with the reason."""
    import jsonschema

    from core.pipeline.grammar import item_shape_schema

    check_itype(itype)
    check_lang(lang)
    body = _FENCE.sub("", text or "").strip()
    if not body:
        raise ParseError("the output is empty")
    start = min((i for i in (body.find("{"), body.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ParseError("no JSON object or array in the output")
    try:
        data, _ = json.JSONDecoder().raw_decode(body[start:])
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:  # '[[[[…' past Python's stack: no model output nests like that
        raise ParseError("the JSON is nested too deeply to be items") from None
    if isinstance(data, dict):
        if not isinstance(data.get("items"), list):
            raise ParseError('the JSON object has no "items" list')
        data = data["items"]
    if not isinstance(data, list):
        raise ParseError("the JSON is neither a list nor an object with an items list")
    kind = itypes.get(itype)
    validator = jsonschema.Draft202012Validator(item_shape_schema(itype))
    items, skipped = [], []
    for n, raw in enumerate(data, start=1):
        errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "item"
            skipped.append(f"item {n}: {where}: {errors[0].message}")
            continue
        question, answer = _clean(raw["question"]), _clean(str(raw["answer"]))
        if not question or not answer:
            skipped.append(f"item {n}: empty {'question' if not question else 'answer'}")
            continue
        item = Item(itype, lang, question, answer, index=n)
        kind.read_json(item, raw)
        items.append(item)
    if not items:
        raise ParseError("no complete item: " + ("; ".join(skipped) or "the list is empty"))
    return Parsed(items, skipped)


PARSERS = {"tagged": parse_tagged, "json": parse_json}


def parse_output(text: str, fmt: str, itype: str, lang: str) -> Parsed:
    try:
        parser = PARSERS[fmt]
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r}; expected tagged or json") from None
    return parser(text, itype, lang)
