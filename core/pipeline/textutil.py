"""Language-aware text measures shared by the parsers, the checks and the verify stage.

English is measured in words; Chinese has no spaces, so each CJK character counts as one unit
and any embedded Latin word (a brand, a number) as one more.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.\-][A-Za-z0-9]+)*")
_SPACE = re.compile(r"\s+")

# Words that carry no content when comparing two questions about the same image.
_STOP_EN = frozenset(
    """a an the is are was were be been being do does did of in on at to for with by from and or
    this that these those it its there here what which who whom whose how why when where
    image picture photo photograph shown show shows depicted visible can could would should
    object thing kind type
    you your i me my we our they their he she his her any some""".split()
)
_STOP_ZH = frozenset("的了是在图片中这那个吗呢吧么什哪里有和与及其张幅")


# The text measures run ~10 times per field over a check run (each rule measures the same
# question and answer again), so the pure ones are cached: a re-check of 1M items spent most
# of its time folding the same strings.
@lru_cache(maxsize=1 << 12)
def nfkc(text: str) -> str:
    """Full-width letters, digits and punctuation folded to ASCII (Ａ→A, （→(, ：→:)."""
    return unicodedata.normalize("NFKC", text)


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def latin_words(text: str) -> list[str]:
    return list(_latin_words(text))


@lru_cache(maxsize=1 << 12)
def _latin_words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(nfkc(text)))


@lru_cache(maxsize=1 << 12)
def length_units(text: str, lang: str) -> int:
    """Words for English; CJK characters plus Latin words for Chinese."""
    if lang == "zh":
        return cjk_count(text) + len(_latin_words(text))
    return len(_latin_words(text))


def cjk_ratio(text: str) -> float:
    """Share of CJK characters among the text's units; 0.0 for text with no units."""
    cjk = cjk_count(text)
    total = cjk + len(_latin_words(text))
    return cjk / total if total else 0.0


# Everything but letters and digits (str.isalnum, which \w is, less the underscore), in runs:
# one substitution instead of a Python loop over every character.
_NOT_ALNUM = re.compile(r"(?:[^\w\s]|_|\s)+")


@lru_cache(maxsize=1 << 12)
def squash(text: str) -> str:
    """Lower case, NFKC, punctuation dropped, runs of spaces folded: for equality tests."""
    return _NOT_ALNUM.sub(" ", nfkc(text).lower()).strip()


@lru_cache(maxsize=1 << 14)
def content_tokens(text: str) -> frozenset[str]:
    """Words (English) and characters (Chinese) that carry the question's content. Cached:
    the near-duplicate check compares every pair of an image's questions."""
    flat = squash(text)
    tokens = {_stem(w) for w in _WORD.findall(flat) if w not in _STOP_EN}
    tokens.update(ch for ch in _CJK.findall(flat) if ch not in _STOP_ZH)
    return frozenset(tokens)


def _stem(word: str) -> str:
    """A light English stemmer: enough for holding/hold, colours/colour, parked/park."""
    for suffix, keep in (("ing", 3), ("ed", 3), ("es", 3), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def char_ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, squash(a), squash(b), autojunk=False).ratio()


def char_ratio_at_least(a: str, b: str, bar: float) -> bool:
    """char_ratio(a, b) >= bar, with difflib's cheap upper bounds tried first: most pairs a
    check compares are far apart, and the full ratio is the check stage's costliest call."""
    m = SequenceMatcher(None, squash(a), squash(b), autojunk=False)
    return m.real_quick_ratio() >= bar and m.quick_ratio() >= bar and m.ratio() >= bar


def answer_similarity(a: str, b: str) -> float:
    """How alike two short answers are, in [0, 1]: the better of token overlap and char match."""
    sa, sb = squash(a), squash(b)
    if not sa or not sb:
        return 0.0
    if sa == sb or (len(sa) >= 3 and sa in sb) or (len(sb) >= 3 and sb in sa):
        return 1.0
    return max(jaccard(content_tokens(a), content_tokens(b)), char_ratio(a, b))


def near_same(a: str, b: str, exact: bool = False) -> bool:
    """Two questions asking the same thing in other words.

    After spelling variants are paired off (colour/color), the content tokens must be equal, or
    one question may add a single token to the other (not with `exact`: a yes/no question
    naming one value of what a wh-question asks). A substitution ("red car" vs "blue car") is
    a different question, however long the shared context.
    """
    (ta, big_a), (tb, big_b) = _tokens_that_count(a), _tokens_that_count(b)
    shared = len(ta & tb)
    only_a, only_b = set(big_a - tb), set(big_b - ta)
    # Each pairing below takes one token from both sides, so the difference in size it
    # leaves is the one there is now, and it can add at most the smaller side to `shared`.
    if abs(len(only_a) - len(only_b)) > (0 if exact else 1):
        return False
    if shared + min(len(only_a), len(only_b)) < 2:
        return False
    # ... and every token of the smaller side must find its variant: once more tokens of
    # `only_a` went unpaired than it has over `only_b`, the answer is no.
    spare = max(0, len(only_a) - len(only_b))
    for t in sorted(only_a):
        match = next((o for o in sorted(only_b) if _variant(t, o)), None)
        if match:
            only_a.discard(t)
            only_b.discard(match)
            shared += 1
        else:
            spare -= 1
            if spare < 0:
                return False
    small, large = sorted((len(only_a), len(only_b)))
    return shared >= 2 and small == 0 and large <= (0 if exact else 1)


@lru_cache(maxsize=1 << 12)
def _tokens_that_count(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The content tokens, and those of them a differing token counts for: a single Latin
    letter or digit ("item 3" / "item 4") does not."""
    tokens = content_tokens(text)
    return tokens, frozenset(t for t in tokens if len(t) > 1 or _CJK.match(t))


@lru_cache(maxsize=1 << 12)
def _variant(a: str, b: str) -> bool:
    # Spelling varies words, not numbers: "5000" and "15000" are 0.89 alike as strings and
    # name different things.
    if any(ch.isdigit() for ch in a + b):
        return False
    # ratio = 2 * matches / (len(a) + len(b)) and matches <= the shorter length: below
    # 2 * short / total < 0.8 (in integers, 5 * short < 2 * total) it cannot reach the bar
    short, total = min(len(a), len(b)), len(a) + len(b)
    if short < 4 or 5 * short < 2 * total:
        return False
    # the same bound with the characters both words have (difflib's quick_ratio, cheaper)
    common = sum(min(a.count(ch), b.count(ch)) for ch in set(a) & set(b))
    return 5 * common >= 2 * total and SequenceMatcher(None, a, b).ratio() >= 0.8
