"""Hypothesis inputs shared by the hostile-input suites: text as models and files really go
wrong (tags and labels mixed with noise, mixed scripts, invalid UTF-8 as Python sees it),
deep nesting and huge fields. Example counts stay small: CI runs them on two cores."""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Each input must finish well inside the deadline (a hang fails the test, it does not hang
# CI). No example database: nothing is written into the checkout.
# MMSTUDIO_HYPOTHESIS_EXAMPLES=1000 for a long local hunt; CI keeps the default.
EXAMPLES = int(os.environ.get("MMSTUDIO_HYPOTHESIS_EXAMPLES", "60"))
FAST = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=3),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(FAST, max_examples=max(5, EXAMPLES // 3))

SCRIPTS = st.sampled_from(
    [
        "abc xyz",
        "图中是否",
        "答案：",
        "Ответ",
        "مرحبا",
        "こんにちは",
        "🙂👍🏽",
        "\u200b\u202e",
        "\x00\x1f",
    ]
)
# Anything Python can hold in a str, lone surrogates included (what surrogateescape makes of
# invalid UTF-8).
ANY_CHAR = st.characters(codec=None, exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=300)
INVALID_UTF8 = st.binary(max_size=300).map(
    lambda b: (b + b"\xff\xc3(").decode("utf-8", "surrogateescape")
)

TAG_TOKENS = st.sampled_from(
    [
        "<Q1>", "</Q1>", "<A1>", "</A1>", "<C1>", "</C1>", "<Q2>", "</A2>", "＜Q１＞", "＜／A１＞",
        "< q 3 >", "</C>", "Question:", "Answer:", "Q1:", "A1:", "答案：", "问题：", "选项：",
        "A. ", "B) ", "(C) ", "D、", "\n", "```json\n", "```", "yes", "no", "是", "否", "**Q1**:",
    ]
)  # fmt: skip


def tagged_like() -> st.SearchStrategy[str]:
    """Fragments of the tagged format, shuffled with noise and other scripts."""
    piece = st.one_of(TAG_TOKENS, TAG_TOKENS, SCRIPTS, st.text(ANY_CHAR, max_size=12))
    return st.lists(piece, max_size=40).map("".join)


def huge(char: str = "x") -> st.SearchStrategy[str]:
    return st.integers(min_value=100_000, max_value=1_000_000).map(lambda n: char * n)


def deep_nesting() -> st.SearchStrategy[str]:
    """'[[[[…' or '{"a":{"a":…' far past Python's recursion limit, closed or not."""
    return st.tuples(
        st.integers(min_value=500, max_value=200_000),
        st.sampled_from(["[", '{"items":']),
        st.booleans(),
    ).map(lambda t: t[1] * t[0] + (("]" if t[1] == "[" else "}") * t[0] if t[2] else ""))


def json_values(max_leaves: int = 30) -> st.SearchStrategy:
    leaf = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), ANY_TEXT, SCRIPTS
    )
    keys = st.one_of(
        st.sampled_from(
            ["items", "question", "answer", "options", "judge", "choice", "sentence", "English",
             "Chinese", "conversations", "messages", "image", "images", "from", "value", "role",
             "content", "id"]
        ),
        st.text(max_size=8),
    )  # fmt: skip
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)
        ),
        max_leaves=max_leaves,
    )
