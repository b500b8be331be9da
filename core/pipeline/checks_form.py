"""Rules for the defects real small models make (measured on tests/pipeline/corpus_real).

Each names a class of defect, not a string: a question cut off or not asked at all, words of
the prompt or the seed left in, a sentence of the caption standing as the question, an option
letter in front of it, one answer given to several questions, options that repeat the
question, answers pasted from the caption, and questions about nothing the caption mentions.
English and Chinese both. Importing this module registers the rules in checks.RULES.
"""

from __future__ import annotations

import re

from core import itypes
from core.pipeline.checks import _PLACEHOLDER, CheckConfig, item_fields, rule
from core.pipeline.items import NO, Item
from core.pipeline.qform import asks, ends_question, is_zh, question_cut_off
from core.pipeline.textutil import (
    char_ratio_at_least,
    content_tokens,
    length_units,
    nfkc,
    squash,
)

# Template words --------------------------------------------------------------------------

_BARE_TEMPLATE = re.compile(
    r"^\W*(?:(?:the\s+)?(?:question|answer|option|options|choice|choices|q|a)\s*\d*"
    r"|yes\s+or\s+no|true\s+or\s+false|问题\s*\d*|答案|选项|是或否|对或错"
    # an answer value standing where the question should be ("no", "no yes", "是")
    r"|(?:yes|no|true|false)(?:\W+(?:yes|no|true|false))*|[是否对错])\W*$",
    re.I,
)
_TEMPLATE_PHRASE = re.compile(
    r"\bletter\s+of\s+the\s+(?:correct|right)\s+(?:option|answer|choice)"
    r"|\b(?:correct|right)\s+option\s+letter"
    r"|\b(?:answer|respond|reply)\s+(?:with\s+)?(?:only\s+)?(?:a\s+)?(?:yes\s+or\s+no|yes/no)"
    r"|\(\s*yes\s*/\s*no\s*\)|\byes/no\b"
    r"|\bchoose\s+(?:one\s+)?(?:from|among)\s+the\s+(?:options|choices)\b"
    r"|\bone\s+of\s+the\s+(?:four\s+)?options\b"
    r"|正确选项的字母|选项字母|回答是或否|回答“?是”?或“?否”?|请从选项中选择|（是/否）|\(是/否\)",
    re.I,
)
# Alternatives a seed offers ("left/right/top"): two or more words joined by slashes. Units
# ("km/h") and "and/or" have a part of one or two letters and do not count; alternatives
# still inside their <...> slot are the placeholder rule's.
_SLASHED = re.compile(
    r"(?<![/\w])[A-Za-z]{3,}(?:\s*/\s*[A-Za-z]{3,})+(?![/\w])"
    r"|[\u4e00-\u9fff]{1,4}(?:/[\u4e00-\u9fff]{1,4})+"
)
_URL = re.compile(r"\w+://\S+")


@rule("template_words", "Words of the prompt or the seed were left in")
def _template_words(item: Item, cfg: CheckConfig) -> str | None:
    for name, text in item_fields(item):
        if name == "answer" and itypes.get(item.itype).answer_kind == "fixed":
            continue
        if name == "question" and _BARE_TEMPLATE.match(text):
            return f"the question is just {text.strip()!r}"
        m = _TEMPLATE_PHRASE.search(text)
        if m:
            return f"{name} says {m.group(0)!r}"
        m = _SLASHED.search(_PLACEHOLDER.sub(" ", _URL.sub(" ", text)))
        if m:
            return f"{name} keeps the seed's alternatives {m.group(0)!r}"
    return None


# Answers about the task ------------------------------------------------------------------

_META_ANSWER = re.compile(
    r"^\W*(?:this\s+question\b|the\s+answer\s+to\s+(?:this|the|your)\s+question\b|to\s+answer\s+"
    r"(?:this|the)\s+question\b|(?:as|i\s+am|i'm)\s+an\s+ai\b|(?:here\s+(?:is|are)\s+(?:the|my|some)\s+)"
    r"(?:answer|question|description)s?\b|(?:short|long)\s+answer\W*$|answer\W*$)"
    r"|^\W*(?:question|问题)\s*\d*\s*[:：]"  # a label, then (usually) the question again
    r"|\byou(?:'re|\s+are)\s+an\s+ai\s+assistant\b"
    r"|^\W*(?:这个问题|这道题|要回答这个问题|作为(?:一个)?(?:AI|人工智能))",
    re.I,
)


@rule("meta_answer", "The answer talks about the task instead of the image")
def _meta_answer(item: Item, cfg: CheckConfig) -> str | None:
    if itypes.get(item.itype).answer_kind == "fixed":
        return None
    m = _META_ANSWER.search(item.answer)
    if m:
        return f"it says {m.group(0).strip()[:40]!r}"
    question = squash(item.question)
    if length_units(item.question, item.lang) >= 4 and squash(item.answer) == question:
        return "the answer repeats the question"
    return None


# Statements ------------------------------------------------------------------------------

_LETTER_PREFIX = re.compile(
    r"^\s*(?:[(（]\s*[A-Da-dＡ-Ｄ]\s*[)）]|[A-DＡ-Ｄ]\s*[.．:：)）、])\s*(?=\S)"
    # an item number: "1. Is ...", "2) ...", "２．..." (not "3.5 m": a space must follow)
    r"|^\s*[0-9０-９]{1,2}\s*[.．)）、](?:\s+|(?=[\u4e00-\u9fff]))(?=\S)"
)
_SENTENCES = re.compile(r"[^.!?。！？]+[.!?。！？]?")


@rule("letter_prefix", "An option letter or an item number stands in front of the question")
def _letter_prefix(item: Item, cfg: CheckConfig) -> str | None:
    m = _LETTER_PREFIX.match(item.question)
    return f"it starts with {m.group(0).strip()!r}" if m else None


@rule("statement_as_question", "A statement or a sentence of the caption stands as the question")
def _statement(item: Item, cfg: CheckConfig) -> str | None:
    text = _LETTER_PREFIX.sub("", item.question).strip()
    if length_units(text, item.lang) < 3:
        return None
    sentence = _caption_sentence(text, item.caption)
    if sentence:
        return f"it is the caption's sentence {sentence[:60]!r}"
    if not asks(text, is_zh(item.lang, text)) and not question_cut_off(text, item.lang):
        return f"{text[:60]!r} asks nothing"
    return None


def _caption_sentence(text: str, caption: str | None) -> str | None:
    """The caption sentence `text` repeats (a question mark added does not hide it)."""
    if not caption:
        return None
    flat = squash(text)
    if len(flat) < 12:
        return None
    for sentence in _SENTENCES.findall(caption):
        s = squash(sentence)
        if len(s) >= 12 and (flat == s or flat in s or char_ratio_at_least(flat, s, 0.85)):
            return sentence.strip()
    return None


_WH_EN = re.compile(r"^\W*(what|which|who|whom|whose|where|when|why|how)\b", re.I)
_WH_ZH = re.compile(r"什么|哪|几|多少|怎么|怎样|如何|为什么|为何|谁")
_YESNO_ZH = re.compile(r"[吗么][\W]*$|是否|是不是|有没有|能否|可否|会不会|对不对")


@rule("judgement_form", "A judgement item needs a yes/no question", ("judgement",))
def _judgement_form(item: Item, cfg: CheckConfig) -> str | None:
    text = _LETTER_PREFIX.sub("", item.question).strip()
    if is_zh(item.lang, text):
        if _WH_ZH.search(text) and not _YESNO_ZH.search(text):
            return f"{text[:40]!r} asks for more than 是/否"
        return None
    m = _WH_EN.match(text)
    return f"a {m.group(1).lower()}-question cannot be answered yes or no" if m else None


# A question offering alternatives ("indoors or outdoors?", "红色还是蓝色？") asks which one.
_EITHER_OR = re.compile(r"\w\s+or\s+(?:a\s+|an\s+|the\s+)?\w+[^,;]*[?？]\s*$|还是", re.I)
_BARE_YES_NO = re.compile(r"^\W*(?:yes|no|是|否|是的|不是)\W*$", re.I)


@rule("either_or_answer", "A question offering alternatives is answered yes or no",
      ("short_vqa", "long_vqa"))  # fmt: skip
def _either_or_answer(item: Item, cfg: CheckConfig) -> str | None:
    text = _LETTER_PREFIX.sub("", item.question).strip()
    if _BARE_YES_NO.match(item.answer) and _EITHER_OR.search(text):
        return f"{text[:50]!r} asks which one, but the answer is {item.answer.strip()!r}"
    return None


# Options ---------------------------------------------------------------------------------


@rule("options_copy_question", "An option repeats the question", ("multiple_choice",))
def _options_copy_question(item: Item, cfg: CheckConfig) -> str | None:
    question = squash(item.question)
    for letter, option in zip("ABCD", item.options or [], strict=False):
        flat = squash(option)
        if not flat:
            continue
        if ends_question(option) and length_units(option, item.lang) >= 3:
            return f"option {letter} is a question ({option[:50]!r})"
        long_enough = length_units(option, item.lang) >= (6 if item.lang == "zh" else 4)
        if long_enough and (flat in question or char_ratio_at_least(flat, question, 0.8)):
            return f"option {letter} {option[:50]!r} copies the question"
    return None


# Answers across one image ----------------------------------------------------------------


@rule("same_answer", "One answer is given to several questions of this image", None, "image")
def _same_answer(items: list[Item], cfg: CheckConfig) -> dict[int, str]:
    prose = [
        i
        for i, it in enumerate(items)
        if itypes.get(it.itype).answer_kind != "fixed"
        and length_units(it.answer, it.lang) >= cfg.same_answer_min[it.lang]
    ]
    out: dict[int, str] = {}
    for a in prose:
        for b in prose:
            if a == b or items[a].lang != items[b].lang:
                continue
            if squash(items[a].question) == squash(items[b].question):
                continue  # near_duplicate's case
            if _alike(items[a].answer, items[b].answer):
                out[a] = f"the same answer as {items[b].question[:50]!r}"
                break
    return out


def _alike(a: str, b: str) -> bool:
    fa, fb = squash(a), squash(b)
    return fa == fb or char_ratio_at_least(fa, fb, 0.9)


# Grounding in the caption ----------------------------------------------------------------


@rule("copies_caption", "The answer copies the caption word for word")
def _copies_caption(item: Item, cfg: CheckConfig) -> str | None:
    if not item.caption or itypes.get(item.itype).answer_kind == "fixed":
        return None
    zh = is_zh(item.lang, item.answer)
    a = list(squash(item.answer).replace(" ", "")) if zh else squash(item.answer).split()
    c = list(squash(item.caption).replace(" ", "")) if zh else squash(item.caption).split()
    limit = cfg.caption_copy_max["zh" if zh else "en"]
    run = _longest_run(a, c)
    if run > limit:
        return f"{run} {'characters' if zh else 'words'} in a row from the caption, at most {limit}"
    return None


def _longest_run(a: list[str], b: list[str]) -> int:
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


# Words any question about any image may use without the caption naming them.
_GENERIC = frozenset(
    """main subject primary central overall general scene setting background foreground left
    right top bottom centre center middle side part corner edge colour color shape size
    number many much most large largest small smallest big tall short near far front behind
    visible seen appear look like describe detail detailed mood atmosphere feeling style
    lighting light dark bright quality clear blurry blurred sharp focus taken time day
    place location position type kind sort thing item element feature aspect purpose
    people person someone something anything everything frame view angle camera photographer
    likely probably possibly seem suggest tell say explain happen happening next future
    present notice noticeable prominent dominant predominant
    outcome situation event infer environment indoor indoors outdoor outdoors""".split()
)


@rule("not_in_caption", "The question is about nothing the caption mentions")
def _not_in_caption(item: Item, cfg: CheckConfig) -> str | None:
    if not item.caption:
        return None
    if itypes.get(item.itype).answer_kind == "fixed" and item.answer == NO[item.lang]:
        return None  # a "no" question asks about what is absent, by design
    words = {t for t in content_tokens(nfkc(item.question)) if t not in _GENERIC and len(t) > 2}
    if item.lang == "zh" or len(words) < 2:
        return None  # Chinese is measured in characters: too coarse for this rule
    base = content_tokens(item.caption)
    known = base | {t[:-1] for t in base if t.endswith("e")} | {t + "e" for t in base}
    if words & known:
        return None
    # A word inside a caption word still names it: "written" in "handwritten", "shuttle" in
    # "spaceshuttle"; four letters at least, so "arm" does not match "warm", and not inside
    # the generic words ("take" in "taken").
    if any(len(w) >= 4 and any(w in k for k in base - _GENERIC) for w in words):
        return None
    return f"none of {', '.join(sorted(words)[:5])} is in the caption"
