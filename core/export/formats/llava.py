"""LLaVA: one JSON array; `image` is relative to the image folder (LLaVA's --image_folder);
`conversations` alternate human/gpt and `<image>\\n` opens the first human turn."""

from __future__ import annotations

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

ROLES = {"human": "user", "gpt": "assistant"}


class LlavaFormat(JsonFormat):
    name = "llava"
    title = "LLaVA JSON"
    data_suffix = ".json"
    image_folder = "images"

    def read_context(
        self, data_file: Path, folder: Path, manifest: dict | None, **kw
    ) -> ReadContext:
        override = kw.get("image_folder")
        if override:
            base = Path(override)
        elif manifest and manifest.get("image_folder"):
            base = folder / manifest["image_folder"]
        elif (data_file.parent / self.image_folder).is_dir():
            base = data_file.parent / self.image_folder
        else:
            base = data_file.parent
        return ReadContext(
            data_file, base.resolve(), split_of(data_file), cache_dir=kw.get("cache_dir")
        )

    def sniff(self, rec: object) -> bool:
        return isinstance(rec, dict) and "conversations" in rec and "images" not in rec

    def to_conversation(self, rec: object, index: int, ctx: ReadContext) -> Conversation:
        turns = need(rec, "conversations", list)
        image = rec.get("image")
        if image is None:
            images = []
        elif isinstance(image, list):
            images = [resolve_image(ctx.image_base, p) for p in image]
        else:
            images = [resolve_image(ctx.image_base, image)]
        messages = []
        meta = record_meta(rec, ctx)
        for k, turn in enumerate(turns):
            if not isinstance(turn, dict):
                raise RecordError("bad_record", f"turn {k + 1} is not an object")
            who = text_of(turn, "from", k)
            if who == "system" and k == 0:
                meta["system"] = text_of(turn, "value", k)
                continue
            if who not in ROLES:
                raise RecordError(
                    "bad_role", f"turn {k + 1}: 'from' is {who!r}; LLaVA knows human and gpt"
                )
            messages.append({"role": ROLES[who], "content": text_of(turn, "value", k)})
        return Conversation(record_id(rec, index), images, messages, meta)
