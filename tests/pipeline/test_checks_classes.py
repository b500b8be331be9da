"""Rule classes added after measuring the real-output corpus (tests/pipeline/corpus_real): an
either-or question answered yes/no, caption words inside compounds and scene-level words in
`not_in_caption`, and a yes/no question proposing one value of a wh-question is not its near
duplicate. Each case is a class, shown in both directions."""

from __future__ import annotations

from core.pipeline.checks import run_checks
from core.pipeline.items import Item

ROCKET = (
    "A white Falcon 9 rocket stands upright on its launch pad at dusk between four lattice "
    "towers. There is no flame or smoke; the rocket has not launched yet."
)
PAGE = "Handwritten mathematical formulas in dark ink on a sheet of lined paper."
OUTCOME = "What is the most likely outcome of this situation?"
CELEBRITY = "What is the name of the celebrity on stage?"
CLOCK = "A greyscale photo of a round wall clock, taken with strong camera motion blur."


def _flags(*items: Item) -> list[set[str]]:
    return [{f.name for f in flags} for flags in run_checks(list(items))]


def test_an_either_or_question_answered_yes_or_no():
    got = _flags(
        Item("short_vqa", "en", "Is the scene indoors or outdoors?", "No"),
        Item("short_vqa", "en", "Is the cup red or white?", "Red"),
        Item("short_vqa", "en", "Is the cup red?", "Yes"),
        Item("short_vqa", "zh", "杯子是红色还是白色？", "是"),
        Item("short_vqa", "zh", "杯子是红色还是白色？", "红色"),
    )
    assert ["either_or_answer" in g for g in got] == [True, False, False, True, False]


def test_not_in_caption_reads_compounds_and_scene_words_but_not_generic_ones():
    got = _flags(
        Item("short_vqa", "en", "What language is written on it?", "Maths", caption=PAGE),
        Item("long_vqa", "en", OUTCOME, "It will launch.", caption=ROCKET),
        Item("short_vqa", "en", "Is the scene indoors or outdoors?", "Outdoors", caption=ROCKET),
        # "take" sits inside "taken", a word any caption may use: no grounding.
        Item("judgement", "en", "Could I take it home to my wife?", "yes", caption=CLOCK),
        Item("short_vqa", "en", CELEBRITY, "Taylor Swift", caption=ROCKET),
    )
    assert ["not_in_caption" in g for g in got] == [False, False, False, True, True]


def test_a_yes_no_question_naming_a_value_is_not_a_duplicate_of_the_wh_question():
    wh = Item("short_vqa", "en", "What is the table made of?", "Wood")
    got = _flags(
        wh,
        Item("judgement", "en", "Is the table made of glass?", "no"),
        Item("judgement", "en", "Is the table made of wood?", "yes"),
        Item("short_vqa", "en", "What is the wooden table made of?", "Oak"),
    )
    assert ["near_duplicate" in g for g in got] == [False, False, False, True]


def test_questions_that_differ_in_a_number_are_not_near_duplicates():
    # "5000" / "15000" are alike as strings (difflib ratio 0.89) but ask different things;
    # a spelling variant (colour / color) beside the same number still pairs off.
    got = _flags(
        Item("short_vqa", "en", "What does the sign say about the 5000 metre race?", "Start"),
        Item("short_vqa", "en", "What does the sign say about the 15000 metre race?", "End"),
        Item("short_vqa", "en", "What colour is runner 5000's shirt?", "Red"),
        Item("short_vqa", "en", "What color is runner 5000's shirt?", "Red"),
    )
    assert ["near_duplicate" in g for g in got] == [False, False, False, True]
