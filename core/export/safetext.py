"""The one table of chat-template tokens and role markers that trainers read as structure, and
the reversible escape that keeps them out of exported text.

Model text is hostile by nature: a literal `<image>` in an answer makes LLaMA-Factory count one
image too many, `</s>` makes LLaVA's v1 preprocessing mask the whole record ("tokenization
mismatch"), `USER:` or `ASSISTANT:` makes it split a round in the wrong place. Writers, the
check stage and `mmstudio validate` all ask this module; nothing else lists such tokens.

The escape (scheme `wj1`): a WORD JOINER (U+2060, invisible, no break opportunity) goes after
the first character of every occurrence, so `<image>` becomes `<\u2060image>`, which no
tokenizer matches as its special token and no `str.count("<image>")` sees. To make it exactly
reversible, text that already holds the escaped form gets one more joiner (`<`, k joiners,
`image>` becomes k + 1 joiners); `unescape` removes one joiner from every run. Pure Python: the
trainer's environment imports it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

JOINER = "\u2060"
SCHEME = "wj1"
SCHEME_TEXT = "U+2060 WORD JOINER after the first character of each token (wj1)"
KINDS = ("image_placeholder", "special_token", "role_marker")
MODES = ("escape", "skip", "fail")


@dataclass(frozen=True)
class Token:
    text: str
    kind: str
    families: tuple[str, ...]
    line_start: bool = False  # a role marker only where a turn would start


def _t(kind: str, families: str, *texts: str, line_start: bool = False) -> list[Token]:
    return [Token(t, kind, tuple(families.split()), line_start) for t in texts]


IMG, SPECIAL, ROLE = KINDS
TOKENS: tuple[Token, ...] = tuple(
    _t(IMG, "llava llama-factory internvl", "<image>")
    + _t(IMG, "llava-video llama-factory", "<video>")
    + _t(IMG, "internvl", "<img>", "</img>", "<IMG_CONTEXT>")
    + _t(IMG, "qwen-vl", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")
    + _t(IMG, "llama3", "<|image|>")
    + _t(IMG, "gemma", "<start_of_image>", "<end_of_image>", "<image_soft_token>")
    + _t(IMG, "pixtral", "[IMG]", "[IMG_BREAK]", "[IMG_END]")
    + _t(IMG, "idefics", "<fake_token_around_image>")
    + _t(SPECIAL, "llama2 vicuna llava", "<s>", "</s>", "<unk>")
    + _t(SPECIAL, "llama2 mistral", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>")
    + _t(SPECIAL, "chatml qwen", "<|im_start|>", "<|im_end|>", "<|endoftext|>")
    + _t(
        SPECIAL,
        "llama3",
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
    )
    + _t(SPECIAL, "gemma", "<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>")
    + _t(SPECIAL, "phi3", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>")
    + _t(SPECIAL, "idefics", "<end_of_utterance>")
    + _t(ROLE, "vicuna llava", "USER:", "ASSISTANT:")
    + _t(ROLE, "llava-v0", "### Human:", "### Assistant:")
    + _t(ROLE, "plain", "Human:", "Assistant:", "User:", "System:", "GPT:", line_start=True)
)
BY_TEXT = {t.text: t for t in TOKENS}


_META = set("\\.^$|?*+()[]{}")


def _lit(text: str) -> str:
    # Escapes both Python's re and RE2 (DuckDB) read the same way; re.escape's "\ " is not.
    return "".join("\\" + c if c in _META else c for c in text)


def _alternation(joiners: str, tokens=TOKENS) -> str:
    # Longest first, so that a token is never shadowed by a shorter one it starts with.
    alts = []
    for t in sorted(tokens, key=lambda t: -len(t.text)):
        body = _lit(t.text[0]) + joiners + _lit(t.text[1:])
        alts.append(f"(?m:^[ \\t]*){body}" if t.line_start else body)
    return "|".join(alts)


# Exact tokens (what trainers trip over); any run of joiners (what the escape rewrites).
_EXACT = re.compile(_alternation(""))
_ANY = re.compile(_alternation(JOINER + "*"))
_ESCAPED = re.compile(_alternation(JOINER + "+"))
_LEAD = re.compile(r"^[ \t]*")


def _token_of(found: str) -> Token:
    return BY_TEXT[found.lstrip(" \t").replace(JOINER, "")]


def find(text: str) -> list[Token]:
    """The tokens that occur in `text` as they are (escaped ones do not count), in order."""
    if not text:
        return []
    return [_token_of(m.group(0)) for m in _EXACT.finditer(text)]


def count(text: str) -> Counter:
    return Counter(t.text for t in find(text))


def _insert(m: re.Match) -> str:
    s = m.group(0)
    lead = _LEAD.match(s).group(0)
    core = s[len(lead) :]
    return lead + core[0] + JOINER + core[1:]


def _remove(m: re.Match) -> str:
    s = m.group(0)
    k = s.index(JOINER)
    return s[:k] + s[k + 1 :]


def escape(text: str) -> str:
    """Neutralise every token (and keep earlier escapes reversible); `unescape` undoes it."""
    return _ANY.sub(_insert, text) if text else text


def unescape(text: str) -> str:
    return _ESCAPED.sub(_remove, text) if text else text


def sql_pattern() -> str:
    """An RE2 pattern (DuckDB's regexp_matches) that finds every text `escape` would change."""
    return _alternation(JOINER + "*")


def describe(tokens: list[Token]) -> str:
    """`'</s>' (llama2/vicuna/llava), 'USER:' ...` for a message a person reads."""
    seen = dict.fromkeys(t.text for t in tokens)
    return ", ".join(f"{t!r} ({'/'.join(BY_TEXT[t].families)})" for t in seen)


@dataclass
class Tally:
    """Counts of tokens found, per token and per kind and per template family."""

    by_token: Counter
    by_kind: Counter
    by_family: dict

    @classmethod
    def empty(cls) -> Tally:
        return cls(Counter(), Counter(), {})

    def add(self, tokens: list[Token]) -> None:
        for t in tokens:
            self.by_token[t.text] += 1
            self.by_kind[t.kind] += 1
            for fam in t.families:
                self.by_family.setdefault(fam, Counter())[t.text] += 1

    def to_json(self) -> dict:
        return {
            "by_kind": dict(sorted(self.by_kind.items())),
            "by_token": dict(sorted(self.by_token.items())),
            "by_family": {f: dict(sorted(c.items())) for f, c in sorted(self.by_family.items())},
        }
