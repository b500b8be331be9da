"""Model loading: safety defaults, LoRA placement, 4-bit preconditions, merge-and-save."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

from tests.trainer.exports import write_llava
from tests.trainer.helpers import write_config
from trainer.config import from_dict, load_config
from trainer.errors import ModelError
from trainer.families import family_for, load_processor
from trainer.model import add_lora, load_base, lora_targets

pytestmark = pytest.mark.train

FAMILIES = ["llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "idefics3", "smolvlm"]


def _cfg(model, tmp_path, **over):
    raw = {"model": str(model), "data": str(tmp_path), "output_dir": str(tmp_path / "run")}
    return from_dict({**raw, **over})


@pytest.mark.parametrize("family", FAMILIES)
def test_default_targets_are_language_model_projections_only(tiny_model, tmp_path, family):
    cfg = _cfg(tiny_model(family), tmp_path)
    model, _, fam = load_base(cfg, "fp32")
    assert fam.name == family
    regex, names = lora_targets(model, cfg, fam)
    assert names and all(n.split(".")[-1].endswith("proj") for n in names)
    assert not [n for n in names if "vision" in n or "visual" in n or "projector" in n]
    # Every attention and MLP projection of every language-model layer is covered.
    layers = {n.split(".layers.")[1].split(".")[0] for n in names}
    assert layers == {"0", "1"} and len(names) == 14


def test_vision_targets_are_refused_unless_allowed(tiny_model, tmp_path):
    model_dir = tiny_model("llava")
    cfg = _cfg(model_dir, tmp_path, lora={"target_modules": r".*\.(q_proj|v_proj)"})
    model, _, fam = load_base(cfg, "fp32")
    with pytest.raises(ModelError, match="vision-encoder layers.*vision_tower"):
        lora_targets(model, cfg, fam)
    cfg.lora.allow_vision = True
    _, names = lora_targets(model, cfg, fam)
    assert any("vision_tower" in n for n in names)
    cfg = _cfg(model_dir, tmp_path, lora={"target_modules": r".*\.nothing_here"})
    with pytest.raises(ModelError, match="matches no linear layer.*some of its layers"):
        lora_targets(model, cfg, fam)


def test_lora_freezes_everything_but_the_adapters(tiny_model, tmp_path):
    cfg = _cfg(tiny_model("qwen2_vl"), tmp_path)
    model, _, fam = load_base(cfg, "fp32")
    peft_model, info = add_lora(model, cfg, fam)
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert info["lora_layers"] == 14


def test_pickle_weights_refused_unless_opted_in(tiny_model, tmp_path):
    from transformers import AutoModelForImageTextToText

    src = tiny_model("llava")
    folder = tmp_path / "pickled"
    shutil.copytree(src, folder)
    model = AutoModelForImageTextToText.from_pretrained(src)
    (folder / "model.safetensors").unlink()
    import torch

    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ModelError, match="pickle weights.*allow_pickle: true"):
        load_base(_cfg(folder, tmp_path), "fp32")
    loaded, _, _ = load_base(_cfg(folder, tmp_path, allow_pickle=True), "fp32")
    key = "model.language_model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(loaded.state_dict()[key], model.state_dict()[key])


def test_remote_code_is_not_run_by_default(tiny_model, tmp_path):
    folder = tmp_path / "remote"
    shutil.copytree(tiny_model("llava"), folder)
    marker = tmp_path / "code-ran"
    (folder / "custom_config.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\n"
        "from transformers import LlavaConfig\n"
        "class CustomConfig(LlavaConfig):\n    model_type = 'custom_llava'\n"
    )
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "custom_config.CustomConfig"}
    config["model_type"] = "custom_llava"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="custom code.*trust_remote_code: true"):
        load_base(_cfg(folder, tmp_path), "fp32")
    assert not marker.exists()


def test_four_bit_needs_bitsandbytes_and_cuda(tiny_model, tmp_path):
    import torch

    if importlib.util.find_spec("bitsandbytes") and torch.cuda.is_available():
        pytest.skip("bitsandbytes and a GPU are present: 4-bit would load")
    with pytest.raises(ModelError, match="QLoRA.*(bitsandbytes|CUDA GPU)"):
        load_base(_cfg(tiny_model("llava"), tmp_path, quantization="4bit"), "fp32")


def test_merge_and_save_matches_base_plus_adapter(tiny_model, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    from trainer.data import Encoder
    from trainer.loop import run_training
    from trainer.reader import read_conversations

    model_dir = tiny_model("idefics3")
    export = write_llava(tmp_path / "export", n=8)
    run = tmp_path / "run"
    cfg = load_config(
        write_config(
            tmp_path / "c.yaml",
            model_dir,
            export,
            run,
            max_steps=4,
            merge=True,
            eval={"enabled": False},
        )
    )
    result = run_training(cfg)
    merged_dir = run / "merged"
    assert result["merged"] == str(merged_dir)
    assert (merged_dir / "model.safetensors").is_file()

    proc = load_processor(str(merged_dir), family_for("idefics3"), trust_remote_code=False)
    convs, where = read_conversations(export)
    enc = Encoder(proc, 256)
    batch = enc.collate([enc.example(c, w) for c, w in zip(convs[:2], where[:2], strict=True)])
    batch.pop("labels")
    merged = AutoModelForImageTextToText.from_pretrained(merged_dir).eval()
    base = AutoModelForImageTextToText.from_pretrained(model_dir)
    adapted = PeftModel.from_pretrained(base, run / "adapter").eval()
    with torch.no_grad():
        a, b = merged(**batch).logits, adapted(**batch).logits
        plain = AutoModelForImageTextToText.from_pretrained(model_dir).eval()(**batch).logits
    assert torch.allclose(a, b, atol=1e-4)
    assert not torch.allclose(a, plain, atol=1e-3)  # training did change the model
