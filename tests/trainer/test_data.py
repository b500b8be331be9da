"""Data side of the trainer: label masking per family, bad rows, batching."""

from __future__ import annotations

import json

import pytest

from tests.trainer.exports import write_llava, write_sharegpt
from trainer.batches import epoch_batches
from trainer.data import IGNORE, Encoder, check_rows, split_rows
from trainer.errors import DataError
from trainer.families import family_for, load_processor
from trainer.reader import read_conversations

pytestmark = pytest.mark.train

FAMILIES = ["llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "idefics3", "smolvlm"]


def _encoder(tiny_model, family: str, max_length: int = 512) -> Encoder:
    folder = tiny_model(family)
    proc = load_processor(str(folder), family_for(family), trust_remote_code=False)
    return Encoder(proc, max_length)


def _supervised_runs(tok, ids, labels) -> list[str]:
    """Decode each contiguous run of supervised tokens on its own."""
    runs, cur = [], []
    for i, lab in zip(ids.tolist(), labels.tolist(), strict=True):
        if lab == IGNORE:
            if cur:
                runs.append(cur)
            cur = []
        else:
            assert lab == i, "labels must be the input tokens themselves"
            cur.append(i)
    if cur:
        runs.append(cur)
    return [tok.decode(r, skip_special_tokens=True).strip() for r in runs]


@pytest.mark.parametrize("family", FAMILIES)
def test_only_assistant_answers_are_supervised(tiny_model, tmp_path, family):
    export = write_llava(tmp_path / "export", n=4, multi_turn=True)
    convs, where = read_conversations(export)
    enc = _encoder(tiny_model, family)
    batch = enc.collate([enc.example(c, w) for c, w in zip(convs, where, strict=True)])
    image_id = enc.image_token_id
    for b, conv in enumerate(convs):
        answers = [m["content"] for m in conv.messages if m["role"] == "assistant"]
        got = _supervised_runs(enc.tokenizer, batch["input_ids"][b], batch["labels"][b])
        assert got == answers
        # Image tokens are present and never supervised; padding is never supervised.
        ids, labels = batch["input_ids"][b], batch["labels"][b]
        assert (ids == image_id).sum() > 0
        assert (labels[ids == image_id] == IGNORE).all()
        assert (labels[batch["attention_mask"][b] == 0] == IGNORE).all()


def test_sharegpt_export_reads_and_masks(tiny_model, tmp_path):
    export = write_sharegpt(tmp_path / "sg", n=3)
    convs, where = read_conversations(export)
    check_rows(convs, where)
    enc = _encoder(tiny_model, "qwen2_vl")
    batch = enc.collate([enc.example(c, w) for c, w in zip(convs, where, strict=True)])
    for b, conv in enumerate(convs):
        got = _supervised_runs(enc.tokenizer, batch["input_ids"][b], batch["labels"][b])
        assert got == [conv.messages[1]["content"]]


def _rewrite(folder, edit):
    path = folder / "train.json"
    rows = json.loads(path.read_text())
    edit(rows)
    path.write_text(json.dumps(rows))


def test_missing_image_names_the_row(tmp_path):
    export = write_llava(tmp_path / "e", n=5)
    (export / "images" / "r3.png").unlink()
    convs, where = read_conversations(export)
    with pytest.raises(DataError) as err:
        check_rows(convs, where)
    msg = str(err.value)
    assert "train.json, record 4" in msg and "'r3'" in msg and "image not found" in msg


def test_image_token_count_mismatch_names_the_row(tmp_path):
    export = write_llava(tmp_path / "e", n=5)

    def drop_token(rows):
        rows[1]["conversations"][0]["value"] = rows[1]["conversations"][0]["value"].replace(
            "<image>\n", ""
        )

    _rewrite(export, drop_token)
    convs, where = read_conversations(export)
    with pytest.raises(DataError, match=r"record 2 \(id 'r1'\): has 0 <image> token\(s\) but 1"):
        check_rows(convs, where)


def test_corrupt_image_names_the_row_when_loaded(tiny_model, tmp_path):
    export = write_llava(tmp_path / "e", n=3)
    (export / "images" / "r2.png").write_bytes(b"not a png")
    convs, where = read_conversations(export)
    check_rows(convs, where)  # cheap checks pass: images are only opened when a row is used
    enc = _encoder(tiny_model, "llava")
    with pytest.raises(DataError, match=r"record 3 \(id 'r2'\): cannot read image"):
        enc.example(convs[2], where[2])


def test_too_long_rows_are_cut_after_the_images_or_refused(tiny_model, tmp_path):
    export = write_llava(tmp_path / "e", n=2)
    convs, where = read_conversations(export)
    enc = _encoder(tiny_model, "llava", max_length=16)
    exs = [enc.example(c, w) for c, w in zip(convs, where, strict=True)]
    batch = enc.collate(exs)
    assert batch["input_ids"].shape[1] == 16
    assert all(v.shape[1] == 16 for k, v in batch.items() if k != "pixel_values")
    convs[0].messages[0]["content"] = "the " * 40 + convs[0].messages[0]["content"]
    with pytest.raises(DataError, match="more than max_length 16"):
        enc.collate([enc.example(convs[0], where[0])])


def test_split_uses_export_val_file_then_fraction(tmp_path):
    convs, _ = read_conversations(write_llava(tmp_path / "a", n=10, val=4))
    train, held = split_rows(convs, "auto", seed=1)
    assert [convs[i].meta["split"] for i in held] == ["val"] * 4 and len(train) == 10
    convs, _ = read_conversations(write_llava(tmp_path / "b", n=200))
    train, held = split_rows(convs, 0.25, seed=1)
    assert 25 < len(held) < 75 and len(train) + len(held) == 200
    assert split_rows(convs, 0.25, seed=1) == (train, held)  # stable


def test_length_grouped_batches_are_reproducible_and_sharded():
    lengths = [(i * 37) % 101 + 1 for i in range(230)]
    a = epoch_batches(lengths, 8, seed=3, epoch=2)
    assert a == epoch_batches(lengths, 8, seed=3, epoch=2)
    assert a != epoch_batches(lengths, 8, seed=3, epoch=3)
    assert sorted(i for b in a for i in b) == list(range(230))
    # Longest batch first, and far less padding than a random order.
    assert max(lengths[i] for i in a[0]) == max(lengths)

    def padding(batches):
        return sum(
            max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches
        )

    assert padding(a) < padding(epoch_batches(lengths, 8, 3, 2, group_by_length=False)) / 3
    r0 = epoch_batches(lengths, 8, 3, 2, rank=0, world=3)
    r1 = epoch_batches(lengths, 8, 3, 2, rank=1, world=3)
    assert len(r0) == len(r1) and not {i for b in r0 for i in b} & {i for b in r1 for i in b}
