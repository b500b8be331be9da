"""One training run, start to finish: data, model, LoRA, steps, checkpoints, evaluation.

Runs the same under `python -m trainer`, `accelerate launch -m trainer` and `torchrun -m
trainer`: accelerate reads the launcher's environment, each rank takes its share of every
epoch's batches, and only the main process writes to the run folder. Gradient accumulation
is counted here (not by accelerate) so a step means the same thing on resume.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from trainer import checkpoint, evaluate
from trainer.batches import FixedBatches, RowDataset, epoch_batches
from trainer.config import TrainConfig
from trainer.data import Encoder, check_rows, split_rows
from trainer.errors import TrainerError
from trainer.model import add_lora, load_base, merge_and_save, resolve_precision
from trainer.reader import read_conversations
from trainer.run import RunFolder

log = logging.getLogger(__name__)


class Plan:
    """Step arithmetic shared by the loop and resume."""

    def __init__(self, n_batches: int, cfg: TrainConfig):
        self.ga = cfg.grad_accum
        self.steps_per_epoch = max(1, math.ceil(n_batches / self.ga))
        by_epochs = math.ceil(self.steps_per_epoch * cfg.epochs)
        self.total = cfg.max_steps or by_epochs

    def where(self, step: int) -> tuple[int, int]:
        """(epoch, first micro-batch index in that epoch) for the optimizer step after `step`."""
        return step // self.steps_per_epoch, (step % self.steps_per_epoch) * self.ga


def run_training(cfg: TrainConfig, run: RunFolder | None = None) -> dict:
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    precision = resolve_precision(cfg.precision)
    acc = Accelerator(mixed_precision={"fp32": "no"}.get(precision, precision))
    run = run or RunFolder(cfg.output_dir)
    run.main = acc.is_main_process
    run.prepare(cfg)
    _setup_logging(run, acc.is_main_process)
    run.set_status(state="starting", step=0)
    set_seed(cfg.seed)

    convs, where = read_conversations(cfg.data, cfg.format)
    if not convs:
        raise TrainerError(f"the export {cfg.data} has no records")
    check_rows(convs, where)
    train_rows, held_rows = split_rows(convs, cfg.eval.split if cfg.eval.enabled else 0, cfg.seed)
    if not train_rows:
        raise TrainerError("no rows left for training after the eval split")

    model, processor, family = load_base(cfg, precision, acc.local_process_index)
    encoder = Encoder(processor, cfg.max_length)
    items = (
        evaluate.build_items(convs, where, held_rows, cfg.eval.max_items)
        if cfg.eval.enabled
        else []
    )
    before = run.read_json("eval_before.json")
    if items and cfg.eval.before and before is None:
        run.set_status(state="evaluating", phase="before")
        before = _evaluate(acc, model, encoder, items, cfg, run, "before")
        if acc.is_main_process:
            run.write_json("eval_before.json", before)

    model, lora_info = add_lora(model, cfg, family)
    lengths = [encoder.estimate_length(convs[r]) for r in train_rows]
    n_batches = len(
        epoch_batches(
            lengths,
            cfg.batch_size,
            cfg.seed,
            0,
            cfg.group_by_length,
            acc.process_index,
            acc.num_processes,
        )
    )
    plan = Plan(n_batches, cfg)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    from transformers import get_scheduler

    scheduler = get_scheduler(
        cfg.lr_scheduler,
        optimizer,
        num_warmup_steps=int(cfg.warmup_ratio * plan.total),
        num_training_steps=plan.total,
    )
    if cfg.quantization != "4bit":
        model = model.to(acc.device)
    model, optimizer = acc.prepare(model, optimizer)
    peft_model = acc.unwrap_model(model)

    step, counters = 0, {"tokens": 0, "samples": 0}
    last = checkpoint.latest(run.checkpoints) if cfg.resume == "auto" else None
    if last is not None:
        state = checkpoint.load(last, peft_model, optimizer, scheduler)
        step = int(state["step"])
        counters = {k: int(state.get(k, 0)) for k in counters}
        run.log_event("resume", step=step, checkpoint=str(last))
        log.info("resumed from %s", last)
    run.log_event(
        "start",
        step=step,
        total_steps=plan.total,
        steps_per_epoch=plan.steps_per_epoch,
        train_rows=len(train_rows),
        held_out_rows=len(held_rows),
        eval_items=len(items),
        world_size=acc.num_processes,
        precision=precision,
        family=family.name,
        **lora_info,
    )

    dataset = RowDataset(convs, where, train_rows, encoder)
    clock = _Clock(step)
    while step < plan.total:
        epoch, first = plan.where(step)
        batches = epoch_batches(
            lengths,
            cfg.batch_size,
            cfg.seed,
            epoch,
            cfg.group_by_length,
            acc.process_index,
            acc.num_processes,
        )
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_sampler=FixedBatches(batches[first:]),
            collate_fn=encoder.collate,
            num_workers=cfg.num_workers,
            # Its own generator: the global RNG (dropout) must not depend on where we resumed.
            generator=torch.Generator().manual_seed(cfg.seed + epoch),
        )
        group: list[dict] = []
        for mb in loader:
            group.append(mb)
            end_of_epoch = first + len(group) == len(batches)
            if len(group) < plan.ga and not end_of_epoch:
                continue
            stats = _optimizer_step(acc, model, params, optimizer, scheduler, group, cfg)
            group, first, step = [], first + len(group), step + 1
            counters["tokens"] += stats["tokens"]
            counters["samples"] += stats["samples"]
            clock.add(stats)
            if step % cfg.log_steps == 0 or step == plan.total:
                run.log_event(
                    "train",
                    step=step,
                    epoch=round(step / plan.steps_per_epoch, 4),
                    lr=scheduler.get_last_lr()[0],
                    **clock.report(step, plan.total),
                )
                run.set_status(state="running", step=step, total_steps=plan.total)
            if step % cfg.save_steps == 0 or step == plan.total:
                _save(acc, run, step, peft_model, optimizer, scheduler, cfg, counters)
            if step >= plan.total:
                break

    acc.wait_for_everyone()
    adapter_dir = run.path / "adapter"
    if acc.is_main_process:
        peft_model.save_pretrained(adapter_dir, safe_serialization=True)
    result = {"run_dir": str(run.path), "steps": step, "adapter": str(adapter_dir)}
    if items:
        run.set_status(state="evaluating", phase="after")
        after = _evaluate(acc, peft_model, encoder, items, cfg, run, "after")
        result["eval"] = evaluate.report(items, before, after, len(held_rows))
        run.write_json("eval.json", result["eval"])
        run.log_event("eval", **{k: result["eval"][k] for k in ("before", "after", "delta")})
    if cfg.merge:
        acc.wait_for_everyone()
        if acc.is_main_process:
            run.set_status(state="merging")
            del model, peft_model, optimizer
            result["merged"] = str(merge_and_save(cfg, adapter_dir, processor, run.path / "merged"))
    acc.wait_for_everyone()
    run.log_event("done", **{k: v for k, v in result.items() if k != "eval"})
    run.set_status(state="done", step=step, total_steps=plan.total)
    return result


def _optimizer_step(acc, model, params, optimizer, scheduler, group, cfg) -> dict:
    import torch

    model.train()
    loss_sum = torch.zeros((), device=acc.device)
    tokens = samples = 0
    for i, mb in enumerate(group):
        tokens += int(mb["attention_mask"].sum())
        samples += int(mb["input_ids"].shape[0])
        mb = {k: v.to(acc.device) if hasattr(v, "to") else v for k, v in mb.items()}
        last = i == len(group) - 1
        # Skip the gradient all-reduce on all but the last micro-batch of the step.
        ctx = acc.no_sync(model) if not last else _null()
        with ctx, acc.autocast():
            loss = model(**mb).loss / len(group)
            acc.backward(loss)
        loss_sum += loss.detach()
    grad_norm = acc.clip_grad_norm_(params, cfg.max_grad_norm) if cfg.max_grad_norm else None
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    totals = acc.reduce(torch.tensor([tokens, samples], device=acc.device), reduction="sum")
    return {
        "loss": float(acc.reduce(loss_sum, reduction="mean")),
        "grad_norm": float(grad_norm) if grad_norm is not None else None,
        "tokens": int(totals[0]),
        "samples": int(totals[1]),
    }


class _Clock:
    """Throughput over the last logging interval, and an ETA from the run's average pace."""

    def __init__(self, start_step: int):
        self.t0 = self.t_last = time.perf_counter()
        self.start_step = start_step
        self.losses, self.norms, self.tokens, self.samples = [], [], 0, 0

    def add(self, s: dict) -> None:
        self.losses.append(s["loss"])
        if s["grad_norm"] is not None:
            self.norms.append(s["grad_norm"])
        self.tokens += s["tokens"]
        self.samples += s["samples"]

    def report(self, step: int, total: int) -> dict:
        import torch

        now = time.perf_counter()
        dt = max(now - self.t_last, 1e-9)
        per_step = (now - self.t0) / max(step - self.start_step, 1)
        out = {
            "loss": round(sum(self.losses) / len(self.losses), 6),
            "grad_norm": round(sum(self.norms) / len(self.norms), 6) if self.norms else None,
            "tokens_per_s": round(self.tokens / dt, 2),
            "samples_per_s": round(self.samples / dt, 3),
            "elapsed_s": round(now - self.t0, 3),
            "eta_s": round(per_step * (total - step), 1),
        }
        if torch.cuda.is_available():
            out["gpu_mem_gb"] = round(torch.cuda.memory_allocated() / 2**30, 3)
            out["gpu_mem_peak_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        self.t_last, self.losses, self.norms, self.tokens, self.samples = now, [], [], 0, 0
        return out


def _save(acc, run, step, peft_model, optimizer, scheduler, cfg, counters) -> None:
    acc.wait_for_everyone()
    if acc.is_main_process:
        path = checkpoint.save(
            run.checkpoints,
            step,
            peft_model,
            optimizer,
            scheduler,
            dict(counters),
            cfg.save_total_limit,
        )
        run.log_event("checkpoint", step=step, path=str(path))
    acc.wait_for_everyone()


def _evaluate(acc, model, encoder, items, cfg, run: RunFolder, phase: str) -> dict | None:
    """Main process only: generation is short and this keeps the items' order simple."""
    result = None
    if acc.is_main_process:
        model = model.to(acc.device) if cfg.quantization != "4bit" else model
        preds = evaluate.generate(
            model, encoder, items, cfg.eval.batch_size, cfg.eval.max_new_tokens
        )
        result = evaluate.score(items, preds)
        _append_predictions(run, phase, items, preds)
    acc.wait_for_everyone()
    return result


def _append_predictions(run: RunFolder, phase: str, items, preds) -> None:
    import json

    path = run.path / f"eval_predictions_{phase}.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for it, p in zip(items, preds, strict=True):
            rec = {
                "row": it.row,
                "id": it.id,
                "itype": it.itype,
                "answer": it.answer,
                "prediction": p,
                "correct": evaluate.is_correct(it.itype, p, it.answer),
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_log_handler: logging.Handler | None = None


def _setup_logging(run: RunFolder, main: bool) -> None:
    """train.log in the run folder; a second run in the same process logs to its own folder."""
    global _log_handler
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    if _log_handler is not None:
        root.removeHandler(_log_handler)
        _log_handler.close()
        _log_handler = None
    if main:
        _log_handler = logging.FileHandler(Path(run.path) / "train.log", encoding="utf-8")
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
        _log_handler.setFormatter(logging.Formatter(fmt))
        root.addHandler(_log_handler)
