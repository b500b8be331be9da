"""Held-out evaluation: greedy answers to multiple-choice, judgement and short VQA items.

Each instruction type scores its own answers (core.itypes: `eval_correct`), through the
normaliser the verify stage uses: multiple choice and judgement by exact match of the letter /
yes-no, short VQA by normalized match (case, punctuation, articles and spacing ignored). Long
answers are listed but not scored: exact match says nothing about them. The item type comes
from the export's meta; when absent, from the shape of the reference answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core import itypes
from core.export.conversation import IMAGE_TOKEN
from core.itypes.answers import match_key as normalize  # noqa: F401  (the text match eval uses)
from core.vocab import InstructionType as T

SHORT_WORDS = 5
SHORT_CHARS_CJK = 12


@dataclass
class Item:
    row: str
    id: str
    messages: list[dict]  # the prompt: everything before the answered turn
    images: list
    answer: str
    itype: str


def scored_types() -> tuple[str, ...]:
    return itypes.where(scored=True)


def infer_itype(answer: str) -> str:
    a = answer.strip()
    if re.fullmatch(r"\(?[A-H]\)?[.:)]?", a):
        return T.MULTIPLE_CHOICE.value
    words = a.split()
    cjk = sum(1 for ch in a if unicodedata.east_asian_width(ch) in "WF")
    # A yes/no the judgement normaliser recognises; a longer Chinese answer that merely
    # starts with 有 or 不 is not a verdict.
    if itypes.get(T.JUDGEMENT).eval_correct(a, a) and cjk <= 2:
        return T.JUDGEMENT.value
    if len(words) <= SHORT_WORDS and (cjk == 0 or cjk <= SHORT_CHARS_CJK):
        return T.SHORT_VQA.value
    return T.LONG_VQA.value


def build_items(convs, where: list[str], rows: list[int], max_items: int) -> list[Item]:
    """One item per answered turn of each held-out conversation, up to `max_items`."""
    items = []
    for r in rows:
        conv = convs[r]
        turn_types = _turn_types(conv.meta)
        msgs = conv.messages
        answered = 0
        for k, m in enumerate(msgs):
            if m["role"] != "assistant":
                continue
            given = turn_types[answered] if answered < len(turn_types) else conv.meta.get("itype")
            answered += 1
            prompt = msgs[:k]
            n_img = sum(p["content"].count(IMAGE_TOKEN) for p in prompt)
            itype = given if given in itypes.names() else infer_itype(m["content"])
            items.append(Item(where[r], conv.id, prompt, conv.images[:n_img], m["content"], itype))
            if len(items) >= max_items:
                return items
    return items


def _turn_types(meta: dict) -> list:
    turns = meta.get("turns")
    if isinstance(turns, list):
        return [t.get("itype") if isinstance(t, dict) else None for t in turns]
    return []


def is_correct(itype: str, prediction: str, answer: str) -> bool | None:
    """The type's own eval scorer; it compares through the same normaliser verify uses."""
    return itypes.get(itype).eval_correct(prediction, answer)


def score(items: list[Item], predictions: list[str]) -> dict:
    """Counts and accuracy per item type and overall (scored types only)."""
    out = {t: {"n": 0, "correct": 0} for t in scored_types()}
    unscored = 0
    for item, pred in zip(items, predictions, strict=True):
        ok = is_correct(item.itype, pred, item.answer)
        if ok is None:
            unscored += 1
            continue
        out[item.itype]["n"] += 1
        out[item.itype]["correct"] += int(ok)
    total = {
        "n": sum(v["n"] for v in out.values()),
        "correct": sum(v["correct"] for v in out.values()),
    }
    out["overall"] = total
    for v in out.values():
        v["accuracy"] = round(v["correct"] / v["n"], 4) if v["n"] else None
    out["unscored"] = unscored
    return out


def generate(model, encoder, items: list[Item], batch_size: int, max_new_tokens: int) -> list[str]:
    """Greedy answers, batched with left padding."""
    import torch

    from trainer.data import load_images, render

    model.eval()
    device = next(p for p in model.parameters()).device
    tok = encoder.tokenizer
    out: list[str] = []
    for i in range(0, len(items), batch_size):
        chunk = items[i : i + batch_size]
        prompts = [render(encoder.processor, it.messages, generation_prompt=True) for it in chunk]
        images = [_images(it, load_images) for it in chunk]
        batch = encoder.prompt_batch(prompts, images)
        batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
        with torch.no_grad():
            ids = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tok.pad_token_id,
            )
        new = ids[:, batch["input_ids"].shape[1] :]
        out += [t.strip() for t in tok.batch_decode(new, skip_special_tokens=True)]
    return out


def _images(item: Item, loader) -> list:
    from core.export.conversation import Conversation

    conv = Conversation(id=item.id, images=item.images, messages=item.messages)
    return loader(conv, item.row)


def report(items: list[Item], before: dict | None, after: dict, held_rows: int) -> dict:
    delta = {}
    if before:
        for key in (*scored_types(), "overall"):
            b, a = before[key]["accuracy"], after[key]["accuracy"]
            delta[key] = round(a - b, 4) if a is not None and b is not None else None
    return {
        "held_out_rows": held_rows,
        "items": len(items),
        "by_type_count": {t: sum(1 for it in items if it.itype == t) for t in itypes.names()},
        "before": before,
        "after": after,
        "delta": delta,
    }
