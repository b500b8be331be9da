"""The model-output parsers never crash and never hang: every input ends in items or a
ParseError that says why."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from core.pipeline.parsers import Parsed, ParseError, parse_json, parse_tagged
from tests.hostile.strategies import (
    ANY_TEXT,
    FAST,
    FEW,
    INVALID_UTF8,
    SCRIPTS,
    deep_nesting,
    huge,
    json_values,
    tagged_like,
)

ITYPES = st.sampled_from(["judgement", "multiple_choice", "short_vqa", "long_vqa"])
LANGS = st.sampled_from(["en", "zh"])
PARSERS = st.sampled_from([parse_tagged, parse_json])


def defined_outcome(parser, text, itype, lang) -> Parsed | None:
    try:
        parsed = parser(text, itype, lang)
    except ParseError as exc:
        assert str(exc).strip(), "a ParseError must say why"
        return None
    assert parsed.items, "success means at least one item"
    for item in parsed.items:
        assert isinstance(item.question, str) and item.question.strip()
        assert isinstance(item.answer, str) and item.answer.strip()
        assert item.itype == itype and item.lang == lang
        if itype == "multiple_choice":
            assert all(isinstance(o, str) for o in item.options)
    assert all(isinstance(s, str) and s for s in parsed.skipped)
    return parsed


@FAST
@given(PARSERS, st.one_of(ANY_TEXT, INVALID_UTF8, tagged_like()), ITYPES, LANGS)
def test_any_text(parser, text, itype, lang):
    defined_outcome(parser, text, itype, lang)


@FAST
@given(json_values(), st.booleans(), ITYPES, LANGS, st.sampled_from(["", "Here:\n", "```json\n"]))
def test_any_json_shape(value, wrap, itype, lang, lead):
    body = json.dumps({"items": value} if wrap else value, ensure_ascii=False)
    defined_outcome(parse_json, lead + body, itype, lang)


@FEW
@given(PARSERS, deep_nesting(), ITYPES)
def test_deep_nesting(parser, text, itype):
    defined_outcome(parser, text, itype, "en")


@FEW
@given(huge("x"), huge("答"), SCRIPTS)
def test_huge_fields_come_through_whole(question, answer, noise):
    text = f"{noise}<Q1>{question}</Q1><A1>{answer}</A1>"
    parsed = defined_outcome(parse_tagged, text, "short_vqa", "zh")
    assert parsed is not None
    assert len(parsed.items[0].question) == len(question)
    assert len(parsed.items[0].answer) == len(answer)
    doc = json.dumps({"items": [{"question": question, "answer": answer}]})
    parsed = defined_outcome(parse_json, doc, "long_vqa", "en")
    assert parsed is not None and len(parsed.items[0].question) == len(question)


@FEW
@given(st.integers(min_value=1_000, max_value=50_000), ITYPES)
def test_many_unclosed_tags(n, itype):
    defined_outcome(parse_tagged, "<Q1>" * n + "<A1>" * (n // 2), itype, "en")
