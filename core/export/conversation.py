"""The format-neutral shape of one training record, and how questions are rendered in exports.

Every reader turns its format into `Conversation`s; the trainer and the importer only ever see
this shape. Questions are rendered the same way by every writer (the SQL in
core/store/exports.py mirrors `render_question`), so `split_rendered` can undo it on import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_TOKEN = "<image>"
LETTERS = "ABCDEFGH"
_OPTION_LINE = re.compile(r"^([A-H])\. (.*)$")


@dataclass
class Conversation:
    """One record of a training file.

    `images` are absolute paths; `messages` alternate user/assistant with `<image>` tokens left
    in user content exactly where the format puts them; `meta` holds what the file tells about
    the record (itype, lang, domain, split when known; `turns` per question-answer pair).
    """

    id: str
    images: list[Path]
    messages: list[dict]
    meta: dict = field(default_factory=dict)

    def pairs(self) -> list[tuple[str, str]]:
        """(user, assistant) texts in order; an unpaired trailing user turn is dropped."""
        out = []
        msgs = [m for m in self.messages if m.get("role") in ("user", "assistant")]
        for i in range(0, len(msgs) - 1, 2):
            if msgs[i]["role"] == "user" and msgs[i + 1]["role"] == "assistant":
                out.append((msgs[i]["content"], msgs[i + 1]["content"]))
        return out


def render_question(question: str, options: list[str] | None, suffix: str = "") -> str:
    """The question as exported: option lines "A. ..." under it, then the answer-format suffix."""
    parts = [question]
    if options:
        parts.extend(f"{LETTERS[i]}. {opt}" for i, opt in enumerate(options))
    if suffix:
        parts.append(suffix)
    return "\n".join(parts)


def strip_image_tokens(text: str) -> str:
    """User text without `<image>` tokens (and the line break that follows one)."""
    return re.sub(re.escape(IMAGE_TOKEN) + r"\n?", "", text).strip()


def split_rendered(
    text: str, suffix: str | None = None, multiple_choice: bool | None = None
) -> tuple[str, list[str] | None, str]:
    """Undo `render_question`: (question, options or None, suffix found).

    `suffix` is the exact suffix when the record says which (our own exports); it is removed
    only when the text really ends with it. Options are taken from the trailing run of
    "A. ", "B. ", ... lines when `multiple_choice` is true, or, when it is None (a third-party
    file), when there are at least two such lines.
    """
    found = ""
    if suffix and (text == suffix or text.endswith("\n" + suffix)):
        text = text[: len(text) - len(suffix)].removesuffix("\n")
        found = suffix
    if multiple_choice is False:
        return text, None, found
    lines = text.split("\n")
    opts: list[str] = []
    k = len(lines) - 1
    while k > 0:
        m = _OPTION_LINE.match(lines[k])
        if not m:
            break
        opts.append(m.group(2))
        k -= 1
    opts.reverse()
    expected = [LETTERS[i] for i in range(len(opts))]
    got = [_OPTION_LINE.match(line).group(1) for line in lines[k + 1 :]]
    if len(opts) >= 2 and got == expected:
        return "\n".join(lines[: k + 1]), opts, found
    return text, None, found
