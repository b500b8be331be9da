"""Whether a text is put as a question, and whether a question stops before it is asked.

Shared by the check rules `truncated` and `statement_as_question` (core.pipeline.checks*).
English by its first and last words; Chinese by its question mark, particles (吗/呢/吧) and
question words (什么/哪/几/多少/是否 ...).
"""

from __future__ import annotations

import re

from core.pipeline.textutil import cjk_ratio, latin_words, length_units

_INTERROGATIVE_EN = re.compile(
    r"^\W*(what|which|who|whom|whose|where|when|why|how|is|are|was|were|am|do|does|did|can|"
    r"could|will|would|shall|should|may|might|must|has|have|had|isn't|aren't|doesn't|don't|"
    r"didn't|wasn't|weren't|in\s+what|in\s+which|on\s+what|from\s+what|at\s+what|for\s+what|"
    r"to\s+what|by\s+how)\b",
    re.I,
)
_IMPERATIVE_EN = re.compile(
    r"^\W*(please\s+)?(describe|explain|list|name|identify|tell|count|give|write|compare|"
    r"estimate|state|summari[sz]e|discuss|analy[sz]e|predict|suggest|outline|imagine|say|"
    r"point|find|choose|select|pick|determine|infer|evaluate|assess|judge|rate|read|"
    r"transcribe|specify|provide|mention|detail|characteri[sz]e|elaborate|consider)\b",
    re.I,
)
_QUESTION_END = re.compile(r"[?？]\W*$")
_INTERROGATIVE_ZH = re.compile(
    r"什么|哪|几|多少|多大|多长|多高|怎么|怎样|如何|为什么|为何|是否|是不是|有没有|能否|可否|会不会|谁"
)
_PARTICLE_ZH = re.compile(r"[吗呢吧么][\W]*$")
_IMPERATIVE_ZH = re.compile(
    r"^\W*(请|描述|说明|列出|解释|分析|判断|指出|写出|比较|推测|估计|概述|谈谈|说说)"
)

# A question with its question mark still ends on one of these: the words that cannot close an
# English question (a preposition, a demonstrative or "more" can: "What is it made of?", "What
# animal is this?", "Which has more?").
_NEVER_LAST_EN = (
    "a an the every my your our their its another such very really exactly noticeably quite "
    "rather fairly somewhat clearly visibly particularly especially almost nearly and or but nor"
)
# Without a question mark, also the prepositions, conjunctions and auxiliaries.
_DANGLING_EN = _NEVER_LAST_EN + (
    " this these those each some any no his her either neither too more most less least"
    " of to with for in on at by from into onto about over under near between behind above "
    "below across through like without within than that if whether while because so as is "
    "are was were be been being do does did has have had can could will would should may "
    "might must what which whose how"
)
_NEVER_LAST = frozenset(_NEVER_LAST_EN.split())
_DANGLING_WORDS = frozenset(_DANGLING_EN.split())
_DANGLING_ZH = re.compile(
    r"(这|那|这个|那个|一个|一些|一|个|在|被|把|对|从|向|比|是|有|很|最|更|非常|还是|或)\W*$"
)


def ends_question(text: str) -> bool:
    return bool(_QUESTION_END.search(text))


def asks(text: str, zh: bool) -> bool:
    """Whether the text is put as a question or an instruction (not a statement)."""
    if ends_question(text):
        return True
    if zh:
        return bool(
            _PARTICLE_ZH.search(text)
            or _INTERROGATIVE_ZH.search(text)
            or _IMPERATIVE_ZH.match(text)
        )
    return bool(_INTERROGATIVE_EN.match(text) or _IMPERATIVE_EN.match(text))


def is_zh(lang: str, text: str) -> bool:
    return lang == "zh" or cjk_ratio(text) > 0.5


def _last_word(text: str) -> str:
    words = latin_words(text)
    return words[-1].lower() if words else ""


def question_cut_off(question: str, lang: str) -> str | None:
    """Why `question` looks cut off, or None."""
    text = question.strip()
    if not text or length_units(text, lang) < 2:
        return None
    if is_zh(lang, text):
        if not ends_question(text) and _DANGLING_ZH.search(text):
            return f"the question ends on {_DANGLING_ZH.search(text).group(1)!r} ({text[-15:]!r})"
        return None
    last = _last_word(text)
    if ends_question(text) or re.search(r"[.!。！]\W*$", text):
        # A closed sentence may end on a preposition ("What is it made of?"), not on these.
        if last in _NEVER_LAST:
            return f"the question ends on {last!r} before its final mark ({text[-30:]!r})"
        return None
    if last in _DANGLING_WORDS:
        return f"the question ends on {last!r} ({text[-30:]!r})"
    if _INTERROGATIVE_EN.match(text) and not re.search(r"[:]\s*$", text):
        return f"the question has no question mark ({text[-30:]!r})"
    return None
