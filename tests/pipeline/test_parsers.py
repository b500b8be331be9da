"""Parser behaviour beyond the corpus: reasons on failure, repair notes, the JSON shape."""

from __future__ import annotations

import pytest

from core.itypes.answers import normalize_choice, normalize_judgement, split_options
from core.pipeline.parsers import ParseError, parse_json, parse_output, parse_tagged


def test_missing_closers_are_repaired_and_noted():
    parsed = parse_tagged("<Q1>Is it red?\n<A1>Yes\n<Q2>Is it big?<A2>No</A2>", "judgement", "en")
    assert [(i.question, i.answer) for i in parsed.items] == [
        ("Is it red?", "yes"),
        ("Is it big?", "no"),
    ]
    assert "missing </Q>" in " ".join(parsed.items[0].notes).replace("Q1", "Q")
    assert any("read as 'yes'" in n for n in parsed.items[0].notes)


def test_truncated_last_item_is_skipped_with_its_reason():
    parsed = parse_tagged("<Q1>What?</Q1><A1>Cat</A1><Q2>Where?</Q2><A2>", "short_vqa", "en")
    assert len(parsed.items) == 1
    assert parsed.skipped == ["item 2: the output ended before the answer"]


def test_answer_without_question_tag_is_not_invented():
    with pytest.raises(ParseError, match="no complete item"):
        parse_tagged("<Q1></Q1><A1>yes</A1>", "judgement", "zh")


def test_unrecognised_answers_are_kept_for_the_checks():
    item = parse_tagged("<Q1>Is it?</Q1><A1>Hard to say</A1>", "judgement", "en").items[0]
    assert item.answer == "Hard to say"
    mc = parse_tagged(
        "<Q1>Which?</Q1><C1>A. x B. y C. z D. w</C1><A1>E</A1>", "multiple_choice", "en"
    )
    assert mc.items[0].answer == "E"


@pytest.mark.parametrize(
    "answer, expected",
    [("(B)", "B"), ("B.", "B"), ("答案：B", "B"), ("Ｂ", "B"), ("The answer is C.", "C"),
     ("（Ｄ）", "D"), ("选C", "C"), ("b", "B"), ("A dog", "A"), ("A cat", "B"), ("A small cat", "A small cat"),
     ("Option D: a dog", "D"), ("（B）机场", "B")],
)  # fmt: skip
def test_choice_answers(answer, expected):
    assert normalize_choice(answer, ["A dog", "A cat", "A bird", "A fish"]) == expected


@pytest.mark.parametrize(
    "answer, en, zh",
    [("Yes.", "yes", "是"), ("No, it is not.", "no", "否"), ("是的。", "yes", "是"),
     ("不是", "no", "否"), ("没有", "no", "否"), ("有", "yes", "是"), ("Unclear", "Unclear", "Unclear")],
)  # fmt: skip
def test_judgement_answers(answer, en, zh):
    assert normalize_judgement(answer, "en") == en
    assert normalize_judgement(answer, "zh") == zh


def test_option_markers_need_a_run_from_a():
    assert split_options("Plan B: take the bus") == ("Plan B: take the bus", [])
    lead, options = split_options("Pick one:\n(A) red\n(B) blue\n(C) green\n(D) pink")
    assert lead == "Pick one:" and options == ["red", "blue", "green", "pink"]


def test_json_items_are_checked_against_the_shape_schema():
    parsed = parse_json(
        '{"items": [{"question": "Q?", "options": "A, B", "answer": "A"},'
        ' {"question": "R?", "options": ["a", "b", "c", "d"], "answer": "b"}]}',
        "multiple_choice",
        "en",
    )
    assert [i.question for i in parsed.items] == ["R?"]
    assert parsed.items[0].answer == "B"
    assert parsed.skipped[0].startswith("item 1: options:")


def test_json_errors_name_the_place():
    with pytest.raises(ParseError, match="line 1 column"):
        parse_json('{"items": [', "short_vqa", "en")
    with pytest.raises(ParseError, match="no JSON"):
        parse_json("no json here", "short_vqa", "en")


def test_unknown_format_type_or_language_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown output format"):
        parse_output("x", "xml", "short_vqa", "en")
    with pytest.raises(ValueError, match="unknown instruction type"):
        parse_tagged("x", "essay", "en")
    with pytest.raises(ValueError, match="expected en or zh"):
        parse_tagged("x", "short_vqa", "fr")
