"""`python -m trainer CONFIG.yaml`: one LoRA fine-tuning run (also under accelerate / torchrun)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from trainer.errors import TrainerError

EXIT_USER_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trainer", description="LoRA fine-tuning of a VLM on an export folder."
    )
    parser.add_argument("config", help="the run's YAML configuration")
    parser.add_argument(
        "--check", action="store_true", help="validate the config and the export, then stop"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    from trainer.config import load_config

    run = None
    try:
        cfg = load_config(args.config)
        if args.check:
            return _check(cfg)
        from trainer.loop import run_training
        from trainer.run import RunFolder

        run = RunFolder(cfg.output_dir, main=os.environ.get("RANK", "0") == "0")
        result = run_training(cfg, run)
    except TrainerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _mark_failed(run, str(exc))
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        _mark_failed(run, "interrupted")
        return 130
    except BaseException as exc:
        _mark_failed(run, f"{type(exc).__name__}: {exc}")
        raise
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _check(cfg) -> int:
    from trainer.data import check_rows, split_rows
    from trainer.reader import read_conversations

    convs, where = read_conversations(cfg.data, cfg.format)
    check_rows(convs, where)
    train, held = split_rows(convs, cfg.eval.split, cfg.seed)
    print(json.dumps({"rows": len(convs), "train_rows": len(train), "held_out_rows": len(held)}))
    return 0


def _mark_failed(run, error: str) -> None:
    # Only a folder that this run created or resumed gets a status; never a stranger's.
    if run is not None and run.prepared:
        try:
            run.set_status(state="failed", error=error)
            run.log_event("error", error=error)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
