"""Our trainer against a plain `transformers.Trainer`, same model, data and settings.

    python bench/train_gpu.py            # ~1B-parameter LLaVA-style model, bf16, one GPU
    python bench/train_gpu.py --tiny     # a few-second smoke run on CPU

Builds a random-init LLaVA-style model from config (CLIP-style vision tower + Llama-style
language model; nothing is downloaded), a tokenizer trained here, and a few hundred synthetic
image/question/answer rows in our LLaVA export layout. Each side then trains LoRA for the same
number of steps in its own process (so peak memory is its own) and reports tokens/s, samples/s
and peak GPU memory over the steps after warm-up. Prints ratios ours / baseline and writes
them as JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FULL = dict(
    vocab=32000,
    text_hidden=2048,
    text_layers=16,
    text_heads=16,
    text_ffn=5632,
    vision_hidden=1024,
    vision_layers=12,
    vision_heads=16,
    vision_ffn=4096,
    image=336,
    rows=320,
    steps=40,
    warmup=5,
    batch=8,
    max_length=1024,
)
TINY = dict(
    vocab=600,
    text_hidden=64,
    text_layers=2,
    text_heads=4,
    text_ffn=128,
    vision_hidden=32,
    vision_layers=2,
    vision_heads=2,
    vision_ffn=64,
    image=28,
    rows=48,
    steps=8,
    warmup=2,
    batch=4,
    max_length=256,
)
WORDS = (
    "what color shape is the this picture image show red green blue yellow circle square "
    "triangle left right top bottom many how one two three yes no which of following"
).split()
SHAPES = ["circle", "square", "triangle"]
COLORS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 60, 220)}


def build_model(folder: Path, d: dict) -> int:
    """Save a random-init LLaVA-style model, tokenizer and processor; return its size."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    from trainer.families import save_processor

    rng = random.Random(0)
    corpus = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(2000)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=min(d["vocab"], 2000),
        special_tokens=["<pad>", "<s>", "</s>", "<image>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>"
    )
    template = (
        "{% for m in messages %}{% if m['role'] == 'user' %}USER: {% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<image>\n{% else %}{{ c['text'] }}{% endif %}{% endfor %} "
        "{% else %}ASSISTANT: {% for c in m['content'] %}{{ c['text'] }}{% endfor %}</s>"
        "{% endif %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
    )
    cfg = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=d["vision_hidden"],
            intermediate_size=d["vision_ffn"],
            num_hidden_layers=d["vision_layers"],
            num_attention_heads=d["vision_heads"],
            image_size=d["image"],
            patch_size=14,
        ),
        text_config=LlamaConfig(
            vocab_size=d["vocab"],
            hidden_size=d["text_hidden"],
            intermediate_size=d["text_ffn"],
            num_hidden_layers=d["text_layers"],
            num_attention_heads=d["text_heads"],
            num_key_value_heads=d["text_heads"],
            max_position_embeddings=4096,
            pad_token_id=tokenizer.pad_token_id,
        ),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
    )
    size = {"shortest_edge": d["image"]}
    crop = {"height": d["image"], "width": d["image"]}
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(size=size, crop_size=crop),
        tokenizer=tokenizer,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=template,
    )
    torch.manual_seed(0)
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    model = LlavaForConditionalGeneration(cfg).to(dtype)
    model.save_pretrained(folder)
    save_processor(processor, folder)
    return sum(p.numel() for p in model.parameters())


def build_export(folder: Path, d: dict) -> None:
    from PIL import Image, ImageDraw

    rng = random.Random(1)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(d["rows"]):
        color, shape = rng.choice(list(COLORS)), rng.choice(SHAPES)
        im = Image.new("RGB", (d["image"] + 40, d["image"]), (250, 250, 250))
        draw = ImageDraw.Draw(im)
        box = [8, 8, d["image"] - 8, d["image"] - 8]
        {"circle": draw.ellipse, "square": draw.rectangle}.get(shape, draw.polygon)(
            box if shape != "triangle" else [(8, box[3]), (box[2], box[3]), (box[2] // 2, 8)],
            fill=COLORS[color],
        )
        im.save(folder / "images" / f"{i}.png")
        turns = [
            ("<image>\nwhat color is the shape in this picture?", color),
            (f"is it a {rng.choice(SHAPES)}? answer yes or no", "yes or no"),
            ("describe the picture in one sentence.", f"a {color} {shape} on a light ground"),
        ]
        conv = []
        for q, a in turns[: rng.randint(1, 3)]:
            conv += [{"from": "human", "value": q}, {"from": "gpt", "value": a}]
        rows.append({"id": str(i), "image": f"{i}.png", "conversations": conv})
    (folder / "train.json").write_text(json.dumps(rows), encoding="utf-8")


def settings(d: dict, tiny: bool) -> dict:
    return dict(
        lora={"r": 16, "alpha": 32, "dropout": 0.05},
        learning_rate=2e-4,
        lr_scheduler="cosine",
        warmup_ratio=0.05,
        max_steps=d["steps"],
        batch_size=d["batch"],
        grad_accum=1,
        max_length=d["max_length"],
        precision="fp32" if tiny else "bf16",
        gradient_checkpointing=not tiny,
        seed=0,
        group_by_length=False,
        num_workers=2,
    )


def run_ours(work: Path, d: dict, tiny: bool) -> dict:
    import yaml

    from trainer.config import load_config
    from trainer.loop import run_training

    raw = dict(
        settings(d, tiny),
        model=str(work / "model"),
        data=str(work / "export"),
        output_dir=str(work / "run-ours"),
        save_steps=10**6,
        log_steps=1,
        eval={"enabled": False},
    )
    (work / "ours.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    run_training(load_config(work / "ours.yaml"))
    lines = (work / "run-ours" / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    steps = [e for e in map(json.loads, lines) if e["event"] == "train"][d["warmup"] :]
    return {
        "tokens_per_s": statistics.median(e["tokens_per_s"] for e in steps),
        "samples_per_s": statistics.median(e["samples_per_s"] for e in steps),
        "peak_mem_gb": steps[-1].get("gpu_mem_peak_gb"),
        "final_loss": steps[-1]["loss"],
    }


def run_hf(work: Path, d: dict, tiny: bool) -> dict:
    """transformers.Trainer with the same model, LoRA, collator and hyper-parameters."""
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from trainer.batches import RowDataset
    from trainer.config import from_dict
    from trainer.data import Encoder, check_rows
    from trainer.model import add_lora, load_base
    from trainer.reader import read_conversations

    s = settings(d, tiny)
    cfg = from_dict(
        dict(
            s, model=str(work / "model"), data=str(work / "export"), output_dir=str(work / "run-hf")
        )
    )
    model, processor, family = load_base(cfg, s["precision"])
    model, _ = add_lora(model, cfg, family)
    convs, where = read_conversations(cfg.data)
    check_rows(convs, where)
    encoder = Encoder(processor, cfg.max_length)
    counted = {"tokens": 0, "samples": 0}

    def count(module, args, kwargs):
        # Counted at the model's door: collation runs in loader worker processes.
        mask = kwargs["attention_mask"]
        counted["tokens"] += int(mask.sum())
        counted["samples"] += int(mask.shape[0])

    model.register_forward_pre_hook(count, with_kwargs=True)

    class Timer(TrainerCallback):
        def __init__(self):
            self.marks = []

        def on_step_end(self, args, state, control, **kw):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.marks.append((time.perf_counter(), counted["tokens"], counted["samples"]))

    timer = Timer()
    args = TrainingArguments(
        output_dir=str(work / "run-hf"),
        per_device_train_batch_size=s["batch_size"],
        gradient_accumulation_steps=s["grad_accum"],
        learning_rate=s["learning_rate"],
        lr_scheduler_type=s["lr_scheduler"],
        warmup_steps=int(s["warmup_ratio"] * s["max_steps"]),  # as ours counts it
        max_steps=s["max_steps"],
        bf16=s["precision"] == "bf16",
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        remove_unused_columns=False,
        seed=0,
        dataloader_num_workers=s["num_workers"],
        use_cpu=not torch.cuda.is_available(),
        gradient_checkpointing=s["gradient_checkpointing"],
        gradient_checkpointing_kwargs={"use_reentrant": False},
    )
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=encoder.collate,
        train_dataset=RowDataset(convs, where, list(range(len(convs))), encoder),
        callbacks=[timer],
    )
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    out = trainer.train()
    rates = [
        ((t1 - t0[1]) / (m1 - t0[0]), (s1 - t0[2]) / (m1 - t0[0]))
        for t0, (m1, t1, s1) in zip(timer.marks, timer.marks[1:], strict=False)
    ]
    rates = rates[d["warmup"] - 1 :]
    return {
        "tokens_per_s": statistics.median(r[0] for r in rates),
        "samples_per_s": statistics.median(r[1] for r in rates),
        "peak_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 3)
        if torch.cuda.is_available()
        else None,
        "final_loss": out.training_loss,
    }


def child(part: str, work: Path, tiny: bool) -> None:
    import torch

    if tiny:
        torch.set_num_threads(1)
    d = TINY if tiny else FULL
    result = {"ours": run_ours, "hf": run_hf}[part](work, d, tiny)
    (work / f"{part}.json").write_text(json.dumps(result), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="tiny model on CPU: a smoke check")
    ap.add_argument("--out", type=Path, help="write the JSON result here")
    ap.add_argument("--part", choices=["ours", "hf"], help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.part:
        child(args.part, args.work, args.tiny)
        return 0
    import torch

    d = TINY if args.tiny else FULL
    if not args.tiny and not torch.cuda.is_available():
        print("no CUDA GPU visible: run with --tiny for the CPU smoke check", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mmstudio-bench-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        params = build_model(work / "model", d)
        build_export(work / "export", d)
        setup_s = time.perf_counter() - t0
        env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        results, walls = {}, {}
        for part in ("hf", "ours"):
            t = time.perf_counter()
            cmd = [sys.executable, __file__, "--part", part, "--work", str(work)]
            subprocess.run(cmd + (["--tiny"] if args.tiny else []), check=True, env=env)
            walls[part] = round(time.perf_counter() - t, 1)
            results[part] = json.loads((work / f"{part}.json").read_text(encoding="utf-8"))
    ours, hf = results["ours"], results["hf"]
    report = {
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "params": params,
        "rows": d["rows"],
        "steps": d["steps"],
        "batch_size": d["batch"],
        "setup_s": round(setup_s, 1),
        "wall_s": walls,
        "ours": ours,
        "transformers_trainer": hf,
        "ratio_tokens_per_s": round(ours["tokens_per_s"] / hf["tokens_per_s"], 3),
        "ratio_peak_mem": round(ours["peak_mem_gb"] / hf["peak_mem_gb"], 3)
        if ours["peak_mem_gb"] and hf["peak_mem_gb"]
        else None,
    }
    print(json.dumps(report, indent=2))
    print(f"\n{'':24}{'ours':>12}{'Trainer':>12}{'ratio':>8}")
    for key in ("tokens_per_s", "samples_per_s", "peak_mem_gb"):
        a, b = ours[key], hf[key]
        ratio = f"{a / b:8.3f}" if a and b else f"{'-':>8}"
        cell = [f"{v:12.2f}" if v is not None else f"{'-':>12}" for v in (a, b)]
        print(f"{key:24}{cell[0]}{cell[1]}{ratio}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
