"""Normalizers for answers and option lists, shared by the parsers, verify and the trainer's eval.

Each returns the canonical value when it recognises one and otherwise leaves the text as
written: the checks then flag it with a reason instead of the parser dropping it silently.
"""

from __future__ import annotations

import re

from core.pipeline.textutil import nfkc
from core.vocab import LETTERS, NO, YES

# An option marker: a letter A-E (half- or full-width) in parentheses, or followed by . 、 : ),
# at the start of a line or after a space, a separator or a CJK character. Matched on the text
# as written (no NFKC) so that the options keep their own punctuation.
_MARKER = re.compile(
    r"(?:^|(?<=[\s;,；，、|?？。！!:：\u4e00-\u9fff]))"
    r"(?:[(（]\s*([A-Ea-eＡ-Ｅａ-ｅ])\s*[)）]|([A-Ea-eＡ-Ｅａ-ｅ])\s*[.．、:：)）])[ \t\u3000]*",
    re.M,
)
_LABEL = re.compile(
    r"^\s*(?:(?:the\s+)?(?:correct\s+|right\s+)?(?:answer|option|choice)\s*(?:is)?|"
    r"正确答案(?:是|为)?|答案(?:是|为)?|应选|选择|选)\s*[:：]?\s*",
    re.I,
)
# "(B)" whatever follows; "B", "B.", "B、" followed by a space or the end.
_LETTER_ONLY = re.compile(
    r"^\s*(?:[(\[]\s*([A-Da-d])\s*[)\]]|([A-Da-d])\s*[)\].、:。,，;]?(?:\s|$))"
)
_LETTER_SAID = re.compile(
    r"(?:answer|option|choice|答案|选项|选)\s*(?:is|是|为)?\s*[:：]?\s*[(\[]?([A-D])\b", re.I
)

_ARTICLE = re.compile(r"^A\s+[a-z]")  # "A cat": the English article, not option A
_YES_EN = re.compile(r"^\W*(yes|yeah|yep|true|correct|right|indeed)\b", re.I)
_NO_EN = re.compile(r"^\W*(no|nope|false|incorrect|wrong|not)\b", re.I)
_YES_ZH = re.compile(r"^\W*(是的|是|对的|对|正确|有的|有|存在|确实|没错)")
_NO_ZH = re.compile(r"^\W*(不是|否|不对|不正确|错误|错|没有|没|不存在|并不|并非|不)")
_OPTION_TRAIL = re.compile(r"[\s;,；，]+$")


def split_options(text: str) -> tuple[str, list[str]]:
    """Split `text` into (lead text, options) at markers A., B., ... taken in order.

    Only a run of consecutive letters from A counts, so a stray "B:" inside the question does
    not start an option list. Lower-case markers count only when no upper-case run exists.
    """
    found = _marker_run(text, upper=True) or _marker_run(text, upper=False)
    if not found:
        return text.strip(), []
    lead = text[: found[0][0]].strip()
    options = []
    for i, (_, end) in enumerate(found):
        stop = found[i + 1][0] if i + 1 < len(found) else len(text)
        options.append(_OPTION_TRAIL.sub("", text[end:stop].strip()))
    return lead, options


def _marker_run(text: str, upper: bool) -> list[tuple[int, int]]:
    marks = []
    for m in _MARKER.finditer(text):
        letter = nfkc(m.group(1) or m.group(2))
        if letter.isupper() == upper:
            style = "()" if m.group(1) else nfkc(m.group(0).strip()[-1])
            marks.append((letter.upper(), style, m.start(), m.end()))
    if not marks:
        return []
    # Prefer markers written like the first "A": "A) vitamin B. C) ..." keeps "B." as text.
    first_a = next((style for letter, style, _, _ in marks if letter == "A"), None)
    same = _run([m for m in marks if m[1] == first_a])
    run = same if len(same) >= 4 else _run(marks)
    return run if len(run) >= 2 else []


def _run(marks: list[tuple[str, str, int, int]]) -> list[tuple[int, int]]:
    run: list[tuple[int, int]] = []
    want, pos = 0, -1
    for letter, _, start, end in marks:
        if want < 5 and letter == "ABCDE"[want] and start >= pos:
            run.append((start, end))
            want, pos = want + 1, end
    return run


def normalize_choice(answer: str, options: list[str] | None = None) -> str:
    """'(B)', 'B.', '答案：B', 'The answer is B', 'B. blue' or the option's own text -> 'B'.

    The option's text is tried first: with options "A dog" / "A cat", the answer "A cat" is B,
    not the letter A. "A small cat" matching no option stays as written (an article, not a
    letter) for the checks to flag.
    """
    text = nfkc(answer).strip()
    stripped = _LABEL.sub("", text, count=1)
    wanted = _plain(stripped)
    for letter, option in zip(LETTERS, options or [], strict=False):
        if wanted and wanted == _plain(option):
            return letter
    m = _LETTER_ONLY.match(stripped)
    if m and not _ARTICLE.match(stripped):
        return (m.group(1) or m.group(2)).upper()
    m = _LETTER_SAID.search(text)
    if m:
        return m.group(1).upper()
    return answer.strip()


def normalize_judgement(answer: str, lang: str) -> str:
    """'Yes.', 'Yes, it is red', '是的', '不是' -> yes/no (是/否); unknown text unchanged."""
    text = nfkc(answer).strip()
    for yes_re, no_re in ((_YES_EN, _NO_EN), (_YES_ZH, _NO_ZH)):
        # "no" patterns first: 不是 starts with 不, and "not" must win over a later "yes".
        if no_re.match(text):
            return NO[lang]
        if yes_re.match(text):
            return YES[lang]
    return answer.strip()


def _plain(text: str) -> str:
    return re.sub(r"[\s.。!！]+$", "", nfkc(text).strip().lower())


_ARTICLES = {"a", "an", "the"}
_QUOTES = "\"'“”‘’「」"
_LEADING_LETTER = re.compile(r"^\s*(?:\(\s*[A-Da-d]\s*\)|[A-Da-d]\s*[.、:)．：）])\s*")


def match_key(text: str) -> str:
    """Free-text answers compared for exact match: case, punctuation, articles and spacing
    ignored ("The Red Car." == "red car")."""
    import unicodedata

    text = nfkc(text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return " ".join(w for w in text.split() if w not in _ARTICLES)


def clean_field(text: str) -> str:
    """A parsed field without surrounding space and one pair of enclosing quotes."""
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def strip_letter(option: str) -> str:
    """'B. blue' / '(B) blue' -> 'blue' (JSON options sometimes carry their letter)."""
    return _LEADING_LETTER.sub("", option, count=1)
