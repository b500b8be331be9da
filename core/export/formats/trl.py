"""TRL messages: JSON Lines with typed content parts ({"type": "image"} / {"type": "text"})
and an `images` list relative to the export folder, the shape TRL's SFTTrainer and the
Hugging Face chat templates of vision-language processors take."""

from __future__ import annotations

from core.export.conversation import IMAGE_TOKEN, Conversation
from core.export.formats.base import (
    ReadContext,
    RecordError,
    need,
    record_id,
    record_meta,
    resolve_image,
)
from core.export.formats.jsonfmt import JsonFormat

ROLES = ("user", "assistant")


class TrlFormat(JsonFormat):
    name = "trl"
    title = "TRL messages (JSON Lines)"
    data_suffix = ".jsonl"

    def sniff(self, rec: object) -> bool:
        if not isinstance(rec, dict):
            return False
        msgs = rec.get("messages")
        return (
            isinstance(msgs, list)
            and bool(msgs)
            and isinstance(msgs[0], dict)
            and isinstance(msgs[0].get("content"), list)
        )

    def to_conversation(self, rec: object, index: int, ctx: ReadContext) -> Conversation:
        turns = need(rec, "messages", list)
        raw_images = rec.get("images") or []
        if not isinstance(raw_images, list):
            raise RecordError("bad_record", "'images' must be a list")
        images = [resolve_image(ctx.image_base, p) for p in raw_images]
        meta = record_meta(rec, ctx)
        messages = []
        for k, turn in enumerate(turns):
            if not isinstance(turn, dict):
                raise RecordError("bad_record", f"message {k + 1} is not an object")
            role = turn.get("role")
            text = _content_text(turn.get("content"), k)
            if role == "system" and k == 0:
                meta["system"] = text
                continue
            if role not in ROLES:
                raise RecordError(
                    "bad_role", f"message {k + 1}: role {role!r} is not user or assistant"
                )
            messages.append({"role": role, "content": text})
        return Conversation(record_id(rec, index), images, messages, meta)


def _content_text(content: object, k: int) -> str:
    """Typed parts as one string: an image part becomes an `<image>` token on its own line."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise RecordError(
            "bad_record", f"message {k + 1}: 'content' must be a list of parts or a string"
        )
    parts = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "image":
            parts.append(IMAGE_TOKEN)
        elif kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise RecordError(
                    "bad_record", f"message {k + 1}: a text part has no string 'text'"
                )
            parts.append(text)
        else:
            raise RecordError(
                "bad_record", f"message {k + 1}: content part of type {kind!r} is not image or text"
            )
    return "\n".join(parts)
