"""From conversations to model inputs: checks, chat-template rendering and label masking.

Labels supervise the assistant turns only. We find the assistant spans as character ranges of
the rendered chat text (by rendering the conversation turn by turn), mark the tokens that
overlap them, then line these tokens up with the processor's output, in which each image
placeholder has been expanded into the family's run of image tokens. Text between
placeholders is tokenized identically in both (placeholders are special tokens), so each
stretch of text is found again in order and carries its labels across.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.export.conversation import IMAGE_TOKEN, Conversation
from trainer.errors import DataError

IGNORE = -100
EVAL_SPLITS = {"val", "validation", "dev", "test", "eval"}
AUTO_FRACTION = 0.05


def check_rows(convs: list[Conversation], where: list[str]) -> None:
    """Refuse the whole export on the first bad row, before any model loads."""
    for row, conv in zip(where, convs, strict=True):
        msgs = [m for m in conv.messages if m["role"] != "system"]
        if not msgs:
            raise DataError(row, conv.id, "has no messages")
        roles = [m["role"] for m in msgs]
        expected = ["user", "assistant"] * (len(roles) // 2 + 1)
        if roles != expected[: len(roles)] or roles[-1] != "assistant":
            raise DataError(row, conv.id, f"turns must alternate user/assistant, got {roles}")
        if any(not m["content"].strip() for m in msgs if m["role"] == "assistant"):
            raise DataError(row, conv.id, "has an empty assistant answer")
        n_tokens = sum(m["content"].count(IMAGE_TOKEN) for m in msgs)
        if n_tokens != len(conv.images):
            raise DataError(
                row,
                conv.id,
                f"has {n_tokens} {IMAGE_TOKEN} token(s) but {len(conv.images)} image(s)",
            )
        if any(IMAGE_TOKEN in m["content"] for m in msgs if m["role"] == "assistant"):
            raise DataError(row, conv.id, f"has an {IMAGE_TOKEN} token in an assistant turn")
        for img in conv.images:
            if not Path(img).is_file():
                raise DataError(row, conv.id, f"image not found: {img}")


def split_rows(convs: list[Conversation], split, seed: int) -> tuple[list[int], list[int]]:
    """(train, held-out) row indices: by the export's split, or a stable hash of id and seed.

    "auto" uses the export's val/test records when it has any, else holds out 5%.
    """
    by_meta = [i for i, c in enumerate(convs) if str(c.meta.get("split", "")) in EVAL_SPLITS]
    if split == "auto":
        split = "meta" if by_meta else AUTO_FRACTION
    if split == "meta":
        held = by_meta
    elif not split:
        held = []
    else:

        def unit(c: Conversation) -> float:
            h = hashlib.sha256(f"{seed}:{c.id}".encode()).digest()
            return int.from_bytes(h[:8], "big") / 2**64

        held = [i for i, c in enumerate(convs) if unit(c) < split]
    held_set = set(held)
    return [i for i in range(len(convs)) if i not in held_set], held


def template_messages(messages: list[dict]) -> list[dict]:
    """Our `<image>`-in-text messages as the content lists that VLM chat templates expect."""
    out = []
    for m in messages:
        parts = []
        pieces = m["content"].split(IMAGE_TOKEN) if m["role"] == "user" else [m["content"]]
        for k, piece in enumerate(pieces):
            if k:
                parts.append({"type": "image"})
            # The newline after a placeholder belongs to the placeholder in LLaVA-style text.
            text = piece.removeprefix("\n") if k else piece
            if text:
                parts.append({"type": "text", "text": text})
        out.append({"role": m["role"], "content": parts})
    return out


def render(processor, messages: list[dict], generation_prompt: bool = False) -> str:
    return processor.apply_chat_template(
        template_messages(messages), tokenize=False, add_generation_prompt=generation_prompt
    )


def assistant_spans(processor, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered text and the character span of each assistant turn (answer + end mark)."""
    full = render(processor, messages)
    spans = []
    for k, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        upto = render(processor, messages[: k + 1])
        prompt = render(processor, messages[:k], generation_prompt=True)
        if upto.startswith(prompt) and full.startswith(upto):
            spans.append((len(prompt), len(upto)))
            continue
        # Templates that rewrite earlier turns: fall back to finding the answer text itself.
        start = full.find(m["content"], spans[-1][1] if spans else 0)
        if start < 0:
            raise ValueError("the chat template does not render the assistant answer verbatim")
        spans.append((start, start + len(m["content"])))
    return full, spans


@dataclass
class Example:
    row: str  # where the record is: "train.json, record 3"
    id: str
    text: str
    images: list
    ids: list[int]  # the text tokenized as is, image placeholders unexpanded
    supervised: list[bool]


class Encoder:
    """Turns conversations into `Example`s and batches of them into model inputs."""

    def __init__(self, processor, max_length: int):
        self.processor = processor
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.max_length = max_length
        token = getattr(processor, "image_token", IMAGE_TOKEN)
        self.image_token_id = self.tokenizer.convert_tokens_to_ids(token)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def example(self, conv: Conversation, row: str) -> Example:
        try:
            text, spans = assistant_spans(self.processor, conv.messages)
        except Exception as exc:  # noqa: BLE001 - template errors are data errors for this row
            raise DataError(row, conv.id, f"cannot render with the chat template: {exc}") from None
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        sup = [any(s < b and e > a for a, b in spans) for s, e in enc["offset_mapping"]]
        return Example(row, conv.id, text, load_images(conv, row), enc["input_ids"], sup)

    def estimate_length(self, conv: Conversation) -> int:
        """Cheap length for grouping batches: text tokens plus a flat cost per image."""
        text = " ".join(m["content"] for m in conv.messages)
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"]) + 256 * len(
            conv.images
        )

    def collate(self, examples: list[Example]) -> dict:
        self.tokenizer.padding_side = "right"
        batch = self._process([e.text for e in examples], [e.images for e in examples])
        ids = batch["input_ids"]
        labels = ids.new_full(ids.shape, IGNORE)
        for b, ex in enumerate(examples):
            n = int(batch["attention_mask"][b].sum())
            row_labels = align_labels(ex, ids[b, :n].tolist(), self.image_token_id)
            labels[b, :n] = ids.new_tensor(row_labels)
        batch["labels"] = labels
        if ids.shape[1] > self.max_length:
            self._truncate(batch, examples)
        return batch

    def prompt_batch(self, prompts: list[str], images: list[list]) -> dict:
        """Left-padded inputs for generation."""
        self.tokenizer.padding_side = "left"
        try:
            return self._process(prompts, images)
        finally:
            self.tokenizer.padding_side = "right"

    def _process(self, texts: list[str], images: list[list]) -> dict:
        kw = {"text": texts, "padding": True, "return_tensors": "pt", "add_special_tokens": False}
        if any(images):
            kw["images"] = images
        return dict(self.processor(**kw))

    def _truncate(self, batch: dict, examples: list[Example]) -> None:
        """Cut the tail of rows that are too long; refuse a cut through image tokens."""
        limit = self.max_length
        ids = batch["input_ids"]
        for b, ex in enumerate(examples):
            pos = (ids[b] == self.image_token_id).nonzero()
            if len(pos) and int(pos[-1]) >= limit:
                raise DataError(
                    ex.row,
                    ex.id,
                    f"its images need {int(pos[-1]) + 1} tokens, more than max_length "
                    f"{limit}: raise max_length or use smaller images",
                )
        length = ids.shape[1]
        for key, value in batch.items():
            if (
                hasattr(value, "shape")
                and value.dim() == 2
                and value.shape == (len(examples), length)
            ):
                batch[key] = value[:, :limit]


def load_images(conv: Conversation, row: str) -> list:
    from PIL import Image

    out = []
    for path in conv.images:
        try:
            with Image.open(path) as im:
                out.append(im.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise DataError(row, conv.id, f"cannot read image {path}: {exc}") from None
    return out


def align_labels(ex: Example, expanded: list[int], image_id: int) -> list[int]:
    """Labels for the processor's tokens, carried over stretch by stretch from `ex.ids`."""
    labels = [IGNORE] * len(expanded)
    chunks, start = [], 0
    for i, tok in enumerate(ex.ids + [image_id]):
        if tok == image_id:
            chunks.append((start, i))
            start = i + 1
    pos = 0
    for k, (a, b) in enumerate(chunks):
        piece = ex.ids[a:b]
        if k == len(chunks) - 1:
            at = len(expanded) - len(piece)
            ok = at >= pos and expanded[at:] == piece
        else:
            at = _find(expanded, piece, pos)
            ok = at >= 0
        if not ok:
            raise DataError(
                ex.row,
                ex.id,
                "the processor output does not line up with the chat text "
                "(is the image token a special token of the tokenizer?)",
            )
        for j in range(b - a):
            if ex.supervised[a + j]:
                labels[at + j] = piece[j]
        pos = at + len(piece) + 1
    return labels


def _find(seq: list[int], piece: list[int], start: int) -> int:
    if not piece:
        return start
    first, n = piece[0], len(piece)
    i = start
    while True:
        try:
            i = seq.index(first, i)
        except ValueError:
            return -1
        if seq[i : i + n] == piece:
            return i
        i += 1
