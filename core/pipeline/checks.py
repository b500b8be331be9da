"""Named check rules for generated items, each with a message a reviewer can act on.

A rule looks at one item (scope "item") or at all items of one image (scope "image": balance,
near duplicates). `run_checks` applies every rule that fits the item's type and returns the
flags per item; an item with no flag is `ok`, any flag makes it `needs_review`.
Rules register themselves in RULES, so the GUI can list them and a project can switch some off.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from core import itypes
from core.export import safetext
from core.pipeline.items import LETTERS, NO, YES, Item
from core.pipeline.qform import question_cut_off
from core.pipeline.textutil import (
    cjk_ratio,
    latin_words,
    length_units,
    near_same,
    squash,
)


@dataclass
class CheckConfig:
    short_max: dict = field(default_factory=lambda: {"en": 12, "zh": 24})
    long_min: dict = field(default_factory=lambda: {"en": 40, "zh": 60})
    balance_tolerance: int = 0  # |yes - no| allowed per image
    # same_answer: answers this long (words / characters) or longer count as repeated prose.
    same_answer_min: dict = field(default_factory=lambda: {"en": 3, "zh": 4})
    # copies_caption: the longest run of caption words (characters for zh) an answer may repeat.
    caption_copy_max: dict = field(default_factory=lambda: {"en": 12, "zh": 20})
    disabled: frozenset = frozenset()


@dataclass
class Flag:
    name: str
    message: str


@dataclass
class Rule:
    name: str
    message: str
    types: tuple[str, ...] | None
    scope: str
    fn: Callable


RULES: dict[str, Rule] = {}


def rule(name: str, message: str, types: tuple[str, ...] | None = None, scope: str = "item"):
    def register(fn):
        RULES[name] = Rule(name, message, types, scope, fn)
        return fn

    return register


def run_checks(items: list[Item], cfg: CheckConfig | None = None) -> list[list[Flag]]:
    """Flags for each of `items`, which must all belong to one image."""
    cfg = cfg or CheckConfig()
    flags: list[list[Flag]] = [[] for _ in items]
    for r in RULES.values():
        if r.name in cfg.disabled:
            continue
        chosen = [i for i, it in enumerate(items) if r.types is None or it.itype in r.types]
        if r.scope == "item":
            found = {i: r.fn(items[i], cfg) for i in chosen}
        else:
            found = {chosen[k]: d for k, d in r.fn([items[i] for i in chosen], cfg).items()}
        for i, detail in found.items():
            if detail:
                flags[i].append(Flag(r.name, f"{r.message}: {detail}"))
    return flags


def item_fields(item: Item) -> list[tuple[str, str]]:
    out = [("question", item.question)]
    out += [(f"option {letter}", o) for letter, o in zip(LETTERS, item.options or [], strict=False)]
    out.append(("answer", item.answer))
    return out


# Form ------------------------------------------------------------------------------------


@rule("empty_field", "A field is empty")
def _empty(item: Item, cfg: CheckConfig) -> str | None:
    empty = [name for name, text in item_fields(item) if not squash(text)]
    return ", ".join(empty) or None


_ELLIPSIS = re.compile(r"(\.\.\.|…|⋯)\s*$")
_DANGLING_EN = re.compile(
    r"\b(and|or|the|a|an|of|to|with|for|in|on|at|by|from|into|as|than|but|because|which|that|"
    r"its|their|is|are|was|were)\s*$",
    re.I,
)
_DANGLING = re.compile(r"([,;:\-，、：；（(]|的|和|与|及|或|以及|但是|因为|而且|并且)\s*$")
_FINAL = re.compile(r"[.!?。！？\"'”’)）\]】》*]\s*$")
_PAIRS = (("(", ")"), ("（", "）"), ("“", "”"), ("「", "」"), ("【", "】"), ("《", "》"))


@rule("truncated", "Text looks cut off")
def _truncated(item: Item, cfg: CheckConfig) -> str | None:
    for name, text in item_fields(item):
        text = text.strip()
        if not text or (name == "answer" and itypes.get(item.itype).answer_kind == "fixed"):
            continue
        if _ELLIPSIS.search(text):
            return f"{name} ends with an ellipsis"
        if length_units(text, "zh") >= 3 and (_DANGLING_EN.search(text) or _DANGLING.search(text)):
            return f"{name} ends mid-sentence ({text[-20:]!r})"
        for left, right in _PAIRS:
            if text.count(left) > text.count(right):
                return f"{name} opens {left} and never closes it"
        if text.count('"') % 2:
            return f'{name} opens " and never closes it'
    cut = question_cut_off(item.question, item.lang)
    if cut:
        return cut
    long = itypes.get(item.itype).answer_kind == "long"
    if long and item.answer.strip() and not _FINAL.search(item.answer):
        return f"the answer stops without a final full stop ({item.answer.strip()[-20:]!r})"
    return None


# <...> with no space just inside the brackets ("x < 5 and y > 3" is maths, not a slot),
# {slot}, and lower-case words in square brackets ("[object]").
_PLACEHOLDER = re.compile(
    r"<[^<>\s](?:[^<>\n]{0,58}[^<>\s])?>|\{[a-z_ ]{1,30}\}|\[[a-z][a-z _/-]{0,40}\]"
    r"|\bplaceholder\b|占位符",
    re.I,
)


@rule("placeholder", "A seed placeholder or template slot was left in")
def _placeholder(item: Item, cfg: CheckConfig) -> str | None:
    for name, text in item_fields(item):
        m = _PLACEHOLDER.search(text)
        if m:
            return f"{name} contains {m.group(0)!r}"
    return None


@rule("special_token", "Text holds a chat-template token or role marker that trainers read")
def _special_token(item: Item, cfg: CheckConfig) -> str | None:
    # One token table (core.export.safetext) serves this rule, the writers and validate.
    for name, text in item_fields(item):
        found = safetext.find(text)
        if found:
            return f"{name} holds {safetext.describe(found)}"
    return None


# Type rules ------------------------------------------------------------------------------


@rule("mc_options", "Multiple choice needs four distinct options A-D", ("multiple_choice",))
def _mc_options(item: Item, cfg: CheckConfig) -> str | None:
    options = item.options or []
    if len(options) != 4:
        return f"{len(options)} options"
    seen: dict[str, str] = {}
    for letter, option in zip(LETTERS, options, strict=True):
        key = squash(option)
        if key and key in seen:
            return f"options {seen[key]} and {letter} are the same"
        seen[key] = letter
    return None


@rule("mc_answer", "The answer must be one of the letters A-D", ("multiple_choice",))
def _mc_answer(item: Item, cfg: CheckConfig) -> str | None:
    n = len(item.options or [])
    if item.answer not in LETTERS:
        return f"answer {item.answer[:60]!r} is not a letter"
    if LETTERS.index(item.answer) >= n:
        return f"answer {item.answer} but only {n} options"
    return None


@rule("judgement_answer", "A judgement answer must be yes or no (是/否)", ("judgement",))
def _judgement_answer(item: Item, cfg: CheckConfig) -> str | None:
    if item.answer in (YES[item.lang], NO[item.lang]):
        return None
    return f"answer {item.answer[:60]!r}"


@rule(
    "judgement_balance", "Yes and no answers are unbalanced on this image", ("judgement",), "image"
)
def _balance(items: list[Item], cfg: CheckConfig) -> dict[int, str]:
    out: dict[int, str] = {}
    for lang in {it.lang for it in items}:
        idx = [i for i, it in enumerate(items) if it.lang == lang]
        yes = [i for i in idx if items[i].answer == YES[lang]]
        no = [i for i in idx if items[i].answer == NO[lang]]
        if abs(len(yes) - len(no)) <= cfg.balance_tolerance:
            continue
        detail = f"{len(yes)} {YES[lang]} / {len(no)} {NO[lang]}; this item is on the larger side"
        for i in yes if len(yes) > len(no) else no:
            out[i] = detail
    return out


_SENTENCE_END = re.compile(r"[.!?。！？](?=\s*\S)")


@rule("short_length", "A short answer should be brief", ("short_vqa",))
def _short_length(item: Item, cfg: CheckConfig) -> str | None:
    if _SENTENCE_END.search(re.sub(r"\d\.\d", "", item.answer.strip())):
        return "more than one sentence: an explanation follows the answer"
    script = _script(item.answer)
    units, limit = length_units(item.answer, script), cfg.short_max[script]
    if units > limit:
        return f"{units} {_unit(script)}, at most {limit}"
    return None


@rule("long_length", "A long answer should be detailed", ("long_vqa",))
def _long_length(item: Item, cfg: CheckConfig) -> str | None:
    script = _script(item.answer)
    units, limit = length_units(item.answer, script), cfg.long_min[script]
    if units < limit:
        return f"{units} {_unit(script)}, at least {limit}"
    return None


def _script(text: str) -> str:
    """Measure text in the units of the script it is written in: an English answer to a
    Chinese item is counted in words, not in (zero) Chinese characters."""
    return "zh" if cjk_ratio(text) > 0.5 else "en"


def _unit(lang: str) -> str:
    return "characters" if lang == "zh" else "words"


# Content ---------------------------------------------------------------------------------

_LEAK_EN = re.compile(
    r"\b(?:(?:the|this|that)\s+(?:given\s+|provided\s+|above\s+|following\s+|image\s+)?"
    r"(?:description|caption|passage)"
    r"|(?:text|information|context|details?)\s+(?:above|provided|given)"
    r"|(?:given|provided|above)\s+(?:text|information|context|details)"
    r"|(?:described|mentioned|stated)\s+(?:above|earlier|previously|in\s+the\s+(?:text|description|caption))"
    r"|(?:scene|image|picture|photo|situation)\s+(?:described|mentioned)"
    r"|described\s+(?:scene|image|picture|photo|situation)"
    r"|according\s+to\s+the\s+(?:text|description|caption|information)"
    r"|based\s+on\s+the\s+(?:text|description|caption|information\s+(?:given|provided)))\b",
    re.I,
)
_LEAK_ZH = re.compile(
    r"(?:描述中|描述里|描述提到|根据描述|根据(?:上述|以上|上文|所给|给定|提供的)?(?:描述|文字|文本|信息|说明|标题)"
    r"|(?:上述|以上|上文|前面的|所给的?|给定的?)(?:描述|文字|文本|信息|内容|说明)|题干"
    r"|(?<![英中日韩法德俄外])文中)"
)


@rule("leakage", "It points at the hidden caption instead of the image")
def _leakage(item: Item, cfg: CheckConfig) -> str | None:
    for name, text in item_fields(item):
        m = _LEAK_EN.search(text) or _LEAK_ZH.search(text)
        if m:
            return f"{name} says {m.group(0)!r}"
    return None


@rule("language_mismatch", "The text is not in the item's language")
def _language(item: Item, cfg: CheckConfig) -> str | None:
    texts = [("question", item.question)]
    if itypes.get(item.itype).answer_kind == "long":
        texts.append(("answer", item.answer))
    for name, text in texts:
        if length_units(text, "zh") < 3:
            continue
        ratio = cjk_ratio(text)
        if item.lang == "en" and ratio > 0.3:
            return f"{name} is mostly Chinese but the item is English"
        if item.lang == "zh" and ratio < 0.5:
            return f"{name} is mostly not Chinese but the item is Chinese"
    return None


_ALTERNATIVES = re.compile(r"\bor\b|\bversus\b|\bvs\b|还是|或者|或是")


@rule("answer_in_question", "The question gives the answer away", ("short_vqa", "multiple_choice"))
def _answer_in_question(item: Item, cfg: CheckConfig) -> str | None:
    question = f" {squash(item.question)} "
    if not itypes.get(item.itype).has_options:
        if _ALTERNATIVES.search(item.question):
            return None
        if _mentions(question, _substantive(item.answer)):
            return f"the answer {item.answer!r} is in the question"
        return None
    options = item.options or []
    if item.answer not in LETTERS or LETTERS.index(item.answer) >= len(options):
        return None
    right = _substantive(options[LETTERS.index(item.answer)])
    if not right:
        return None
    inside = [o for o in map(_substantive, options) if _mentions(question, o)]
    if inside == [right]:
        return f"the right option {options[LETTERS.index(item.answer)]!r} is named in the question"
    return None


def _mentions(question: str, text: str) -> bool:
    """Whole-word containment for Latin text; plain containment for Chinese (no spaces)."""
    if not text:
        return False
    return text in question if _is_cjk(text) else f" {text} " in question


def _substantive(text: str) -> str:
    """The squashed text, or '' when it is too small to count as a give-away."""
    flat = squash(text)
    if _is_cjk(flat):
        return flat if len(flat) >= 2 else ""
    return flat if len(flat) >= 3 and latin_words(flat) and not flat.isdigit() else ""


def _is_cjk(text: str) -> bool:
    return bool(text) and cjk_ratio(text) > 0.5


@rule("near_duplicate", "Nearly the same question as another item on this image", None, "image")
def _near_duplicate(items: list[Item], cfg: CheckConfig) -> dict[int, str]:
    out: dict[int, str] = {}
    for j in range(len(items)):
        for i in range(j):
            if items[i].lang != items[j].lang or i in out:
                continue
            if near_same(items[i].question, items[j].question, _proposes(items[i], items[j])):
                out[j] = f"like {items[i].question[:60]!r}"
                break
    return out


def _proposes(a: Item, b: Item) -> bool:
    """One is a yes/no item and the other is not: "Is the table made of glass?" proposes a
    value for "What is the table made of?", a different question though one word longer."""
    yes_no = [
        itypes.get(x.itype).answer_kind == "fixed" and not itypes.get(x.itype).has_options
        for x in (a, b)
    ]
    return yes_no[0] != yes_no[1]


# The rules for the defects real models make live in their own module; importing it here
# registers them after the rules above, so every caller of RULES sees them.
from core.pipeline import checks_form  # noqa: E402, F401
