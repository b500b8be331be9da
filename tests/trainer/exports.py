"""Small export folders laid out as our exporter writes them: LLaVA JSON and ShareGPT.

Answers are learnable from the image colour, so a few CPU steps move the loss and the
held-out accuracy; the three scored item types are mixed in.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image

COLORS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def _image(folder: Path, name: str, color: str, size=(40, 32)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(name)
    im = Image.new("RGB", size, COLORS[color])
    for _ in range(20):
        im.putpixel((rng.randrange(size[0]), rng.randrange(size[1])), (255, 255, 255))
    im.save(folder / name)


def records(n: int, seed: int = 0, start: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(start, start + n):
        color = rng.choice(list(COLORS))
        kind = ("short_vqa", "judgement", "multiple_choice")[i % 3]
        if kind == "short_vqa":
            q, a = "what color is this picture?", color
        elif kind == "judgement":
            asked = rng.choice(list(COLORS))
            q, a = f"is this picture {asked}?", "yes" if asked == color else "no"
        else:
            q = "which color is the image?\nA. red\nB. green\nC. blue"
            a = "ABC"[list(COLORS).index(color)]
        out.append({"id": f"r{i}", "color": color, "itype": kind, "q": q, "a": a})
    return out


def _llava_rows(folder: Path, recs: list[dict], multi_turn: bool, with_meta: bool) -> list:
    rows = []
    for r in recs:
        _image(folder / "images", f"{r['id']}.png", r["color"])
        conv = [{"from": "human", "value": "<image>\n" + r["q"]}, {"from": "gpt", "value": r["a"]}]
        turns = [{"itype": r["itype"], "lang": "en"}]
        if multi_turn:
            conv += [{"from": "human", "value": "is it a photo?"}, {"from": "gpt", "value": "no"}]
            turns.append({"itype": "judgement", "lang": "en"})
        row = {"id": r["id"], "image": f"{r['id']}.png", "conversations": conv}
        if with_meta:
            row["meta"] = {"domain": "colors", "turns": turns}
        rows.append(row)
    return rows


def write_llava(
    folder: Path,
    n: int = 24,
    val: int = 0,
    seed: int = 0,
    multi_turn: bool = False,
    with_meta: bool = True,
) -> Path:
    """train.json (+ val.json with `val` rows) and images/, as `mmstudio export --format llava`."""
    folder.mkdir(parents=True, exist_ok=True)
    splits = {"train": records(n, seed)}
    if val:
        splits["val"] = records(val, seed + 1, start=n)
    for split, recs in splits.items():
        rows = _llava_rows(folder, recs, multi_turn, with_meta)
        (folder / f"{split}.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return folder


def write_sharegpt(folder: Path, n: int = 12, seed: int = 0) -> Path:
    """LLaMA-Factory layout: train.json with messages/images, images/, dataset_info.json."""
    rows = []
    for r in records(n, seed):
        _image(folder / "images", f"{r['id']}.png", r["color"])
        rows.append(
            {
                "messages": [
                    {"role": "user", "content": "<image>" + r["q"]},
                    {"role": "assistant", "content": r["a"]},
                ],
                "images": [f"images/{r['id']}.png"],
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    info = {
        "mmstudio_train": {
            "file_name": "train.json",
            "formatting": "sharegpt",
            "columns": {"messages": "messages", "images": "images"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
            },
        }
    }
    (folder / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")
    return folder
