"""Exports of a hostile project (every special token of the issue, Chinese text, every odd
image kind) read by the peers' own code: TRL's vision collator with a tiny random LLaVA and a
forward pass, LLaMA-Factory's ShareGPT converter and LLaVA plugin, the webdataset library,
InternVL's meta layout. No peer may see a token/image mismatch; without the escape they do.

LLaMA-Factory's metadata does not resolve beside this venv (llamafactory 0.9.5 caps
transformers at 5.6, datasets at 4.0, peft at 0.18, trl at 0.24), but its data modules import
and run with ours: `./dev test` installs it with `pip install --no-deps --target
.venv/peers llamafactory==0.9.5` (8 s), this test puts `<venv>/peers` on the path, and its
module-level `import torchaudio` is stubbed by tests/export/stubs. Without that folder (or on
PYTHONPATH) the test is skipped and says why.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.export import safetext
from core.export.writer import ExportOptions, export_project
from tests.export.hostile import odd_project

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("peers")
    p, _ = odd_project(root / "p")
    outs = {
        fmt: export_project(p, root / fmt, ExportOptions(fmt, multi_turn=fmt == "trl")).out
        for fmt in ("trl", "sharegpt", "webdataset", "internvl", "llava")
    }
    p.close()
    return outs


@pytest.fixture(scope="module")
def llava(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    from tests.trainer.tiny_models import build_llava

    folder = build_llava(tmp_path_factory.mktemp("tiny-llava"))
    return AutoProcessor.from_pretrained(folder), LlavaForConditionalGeneration.from_pretrained(
        folder
    )


def _trl_examples(out: Path, restore: bool = False) -> list[dict]:
    rows = []
    for line in (out / "train.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        for m in rec["messages"]:
            for part in m["content"]:
                if restore and part["type"] == "text":
                    part["text"] = safetext.unescape(part["text"])
        images = [Image.open(out / rel).convert("RGB") for rel in rec["images"]]
        rows.append({"messages": rec["messages"], "images": images})
    return rows


def test_trl_collator_and_a_forward_pass_on_a_tiny_llava(exports, llava):
    import torch
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    processor, model = llava
    collate = DataCollatorForVisionLanguageModeling(processor)
    examples = _trl_examples(exports["trl"])
    text = json.dumps([e["messages"] for e in examples], ensure_ascii=False)
    assert "</s>" in safetext.unescape(text) and "</s>" not in text
    batch = collate(examples)
    image_id = model.config.image_token_index
    eos = processor.tokenizer.eos_token_id
    per_image = int((batch["input_ids"][0] == image_id).sum())
    assert per_image > 0
    for row, ex in zip(batch["input_ids"], examples, strict=True):
        assert int((row == image_id).sum()) == per_image * len(ex["images"])
        answers = sum(m["role"] == "assistant" for m in ex["messages"])
        assert int((row == eos).sum()) == answers  # no </s> smuggled in by the text
    with torch.no_grad():
        loss = model(**batch).loss
    assert torch.isfinite(loss)
    # the same records with the escape undone break the peer, as the issue describes
    raw = _trl_examples(exports["trl"], restore=True)
    with pytest.raises((ValueError, RuntimeError, IndexError)):
        with torch.no_grad():
            model(**collate(raw))


def _llamafactory():
    stubs = str(Path(__file__).parent / "stubs")
    peers = Path(sys.prefix) / "peers"  # where ./dev test puts it (--no-deps --target)
    if peers.is_dir() and str(peers) not in sys.path:
        sys.path.append(str(peers))
    try:
        sys.path.append(stubs)
        from llamafactory.data import mm_plugin
        from llamafactory.data.converter import get_dataset_converter
        from llamafactory.data.parser import get_dataset_list
    except ImportError as exc:
        pytest.skip(
            f"llamafactory does not import here ({exc}); `./dev test` installs it into "
            f"{Path(sys.prefix) / 'peers'}"
        )
    finally:
        sys.path.remove(stubs)
    return mm_plugin, get_dataset_converter, get_dataset_list


def test_llamafactory_converter_and_llava_plugin_see_no_mismatch(exports, llava):
    from types import SimpleNamespace

    import datasets

    mm_plugin, get_dataset_converter, get_dataset_list = _llamafactory()
    processor, _ = llava
    out = exports["sharegpt"]
    (attr,) = get_dataset_list(["mmstudio_train"], str(out))
    data_args = SimpleNamespace(media_dir=str(out), dataset_dir=str(out))
    convert = get_dataset_converter(attr.formatting, attr, data_args)
    assert attr.load_from == "file" and attr.formatting == "sharegpt"
    ds = datasets.load_dataset("json", data_files=str(out / attr.dataset_name), split="train")
    plugin = mm_plugin.get_mm_plugin("llava", image_token="<image>")
    seen = 0
    for example in ds:
        row = convert(example)
        messages = row["_prompt"] + row["_response"]
        plugin.process_messages(messages, row["_images"], [], [], processor)
        text = "".join(m["content"] for m in messages)
        if safetext.JOINER in text:
            seen += 1
            restored = [m | {"content": safetext.unescape(m["content"])} for m in messages]
            if "<image>" in "".join(m["content"] for m in restored).replace("<image>", "", 1):
                with pytest.raises(ValueError, match="does not match the number of <image>"):
                    plugin.process_messages(restored, row["_images"], [], [], processor)
    assert seen >= 8


def test_webdataset_library_reads_the_shards(exports):
    wds = pytest.importorskip("webdataset")
    out = exports["webdataset"]
    shards = sorted(str(p) for p in out.glob("train-*.tar"))
    llava = {r["id"]: r for r in json.loads((exports["llava"] / "train.json").read_text())}
    n = 0
    for sample in wds.WebDataset(shards, shardshuffle=False).decode("pil"):
        rec = sample["json"]
        key = next(k for k in sample if k in ("jpg", "png"))
        text = "".join(t["value"] for t in rec["conversations"])
        assert text.count("<image>") == 1 and not safetext.find(text.replace("<image>", "", 1))
        ref = Image.open(exports["llava"] / "images" / llava[rec["id"]]["image"]).convert("RGB")
        assert np.array_equal(np.asarray(sample[key].convert("RGB")), np.asarray(ref))
        n += 1
    assert n == sum(1 for _ in llava)


def test_internvl_meta_layout_resolves_every_image(exports):
    out = exports["internvl"]
    meta = json.loads((out / "meta.json").read_text())
    for entry in meta.values():
        lines = (out / entry["annotation"]).read_text(encoding="utf-8").splitlines()
        assert entry["length"] == len(lines) and entry["repeat_time"] == 1
        for line in lines:
            rec = json.loads(line)
            # InternVL's dataset joins root and image, then converts to RGB
            Image.open(out / entry["root"] / rec["image"]).convert("RGB")
            text = "".join(t["value"] for t in rec["conversations"])
            assert text.count("<image>") == 1
