"""A project whose model replies hold every chat-template token of the issue, Chinese text,
and (tests/export/test_images.py) images of every odd kind."""

from __future__ import annotations

from pathlib import Path

from core.project import Project
from tests.export.helpers import add_image, add_qa, build_project

# Every token of core.export.safetext that the issue names, each in a question, an option
# or an answer; the Chinese rows keep CJK text around the tokens.
HOSTILE = [
    ("short_vqa", "en", "Which HTML tag is shown, <image> or <video>?", None, "The <image> tag."),
    ("long_vqa", "en", "What does the log end with?", None, "It prints done</s> then <s> again."),
    ("short_vqa", "en", "What is in the prompt box?", None, "<|im_start|>user hi<|im_end|>"),
    ("short_vqa", "en", "What marks the end of the text?", None, "<|endoftext|> and <|eot_id|>"),
    ("long_vqa", "en", "What does the transcript show?", None, "USER: hello ASSISTANT: hi [INST]"),
    ("multiple_choice", "en", "Which token appears?", ["<image>", "</s>", "USER:", "none"], "D"),
    ("long_vqa", "zh", "截图中的对话写了什么？", None, "对话里写着 USER: 你好 ASSISTANT: 您好</s>"),
    ("judgement", "zh", "图中是否出现了 <|im_end|> 标记？", None, "是"),
]
TOKENS_NAMED = ["<image>", "<video>", "</s>", "<s>", "<|im_start|>", "<|im_end|>",
                "<|endoftext|>", "<|eot_id|>", "[INST]", "USER:", "ASSISTANT:"]  # fmt: skip


def add_hostile(p: Project, seed: int = 500, domain: str = "documents") -> int:
    img = add_image(p, seed, domain)
    for itype, lang, q, opts, a in HOSTILE:
        add_qa(p, img, itype, lang, q, opts, a)
    return img


def hostile_project(root: Path) -> Project:
    p = build_project(root, n_images=4)
    add_hostile(p)
    return p
