"""LLaMA-Factory ShareGPT: `messages` with role/content, `images` relative to the dataset
folder, and a `dataset_info.json` entry per split beside the data files.

The reader honours the column and tag mapping of a dataset_info.json entry when one names the
file; without one it accepts both spellings LLaMA-Factory uses (messages/role/content/user/
assistant and conversations/from/value/human/gpt).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.export.conversation import Conversation
from core.export.formats.base import (
    ReadContext,
    RecordError,
    need,
    record_id,
    record_meta,
    resolve_image,
    split_of,
    text_of,
)
from core.export.formats.jsonfmt import JsonFormat
from core.export.jsonstream import read_json_object

DATASET_INFO = "dataset_info.json"
DATASET_PREFIX = "mmstudio"
OUR_TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
}
SPELLINGS = {
    "messages": {
        "role_tag": "role",
        "content_tag": "content",
        "user_tag": "user",
        "assistant_tag": "assistant",
    },
    "conversations": {
        "role_tag": "from",
        "content_tag": "value",
        "user_tag": "human",
        "assistant_tag": "gpt",
    },
}


def dataset_entry(file_name: str) -> dict:
    return {
        "file_name": file_name,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": dict(OUR_TAGS),
    }


class ShareGptFormat(JsonFormat):
    name = "sharegpt"
    title = "LLaMA-Factory ShareGPT"
    data_suffix = ".json"

    def extra_files(self) -> tuple[str, ...]:
        return (DATASET_INFO,)

    def write(self, job) -> list[str]:
        names = super().write(job)
        info = {
            f"{DATASET_PREFIX}_{split}": dataset_entry(name)
            for split, name in zip(job.splits, names, strict=True)
        }
        (job.staging / DATASET_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        return [*names, DATASET_INFO]

    def find_data_files(self, folder: Path) -> list[Path]:
        info = _load_info(folder)
        if info:
            named = [
                folder / e["file_name"]
                for e in info.values()
                if isinstance(e, dict) and e.get("file_name")
            ]
            return sorted(p for p in named if p.is_file())
        return super().find_data_files(folder)

    def read_context(
        self, data_file: Path, folder: Path, manifest: dict | None, **kw
    ) -> ReadContext:
        options: dict = {}
        for entry in (_load_info(data_file.parent) or {}).values():
            if isinstance(entry, dict) and entry.get("file_name") == data_file.name:
                cols, tags = entry.get("columns") or {}, entry.get("tags") or {}
                msg_col = cols.get("messages", "conversations")
                options = {
                    **SPELLINGS["conversations"],
                    **tags,
                    "messages": msg_col,
                    "images": cols.get("images", "images"),
                    "system": cols.get("system"),
                }
                break
        base = Path(kw["image_folder"]) if kw.get("image_folder") else data_file.parent
        return ReadContext(
            data_file, base.resolve(), split_of(data_file), options, kw.get("cache_dir")
        )

    def sniff(self, rec: object) -> bool:
        if not isinstance(rec, dict):
            return False
        msgs = rec.get("messages")
        if isinstance(msgs, list) and msgs and isinstance(msgs[0], dict):
            return isinstance(msgs[0].get("content"), str)
        return "conversations" in rec and "images" in rec

    def to_conversation(self, rec: object, index: int, ctx: ReadContext) -> Conversation:
        opts = ctx.options
        if opts:
            col = opts["messages"]
            tags = opts
        else:
            col = "messages" if isinstance(rec, dict) and "messages" in rec else "conversations"
            tags = SPELLINGS[col]
        turns = need(rec, col, list)
        images_col = opts.get("images", "images")
        raw_images = rec.get(images_col) or []
        if not isinstance(raw_images, list):
            raw_images = [raw_images]
        images = [resolve_image(ctx.image_base, p) for p in raw_images]
        meta = record_meta(rec, ctx)
        if opts.get("system") and rec.get(opts["system"]):
            meta["system"] = rec[opts["system"]]
        roles = {tags["user_tag"]: "user", tags["assistant_tag"]: "assistant"}
        messages = []
        for k, turn in enumerate(turns):
            if not isinstance(turn, dict):
                raise RecordError("bad_record", f"turn {k + 1} is not an object")
            who = text_of(turn, tags["role_tag"], k)
            text = text_of(turn, tags["content_tag"], k)
            if who == tags.get("system_tag", "system") and k == 0:
                meta["system"] = text
                continue
            if who not in roles:
                known = " and ".join(roles)
                raise RecordError("bad_role", f"turn {k + 1}: role {who!r} is not {known}")
            messages.append({"role": roles[who], "content": text})
        return Conversation(record_id(rec, index), images, messages, meta)


def _load_info(folder: Path) -> dict | None:
    return read_json_object(folder / DATASET_INFO)
