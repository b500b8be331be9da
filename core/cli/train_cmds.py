"""`mmstudio train CONFIG.yaml`: run the trainer as its own process and report its run folder.

The trainer needs torch; the CLI and the app must not. So this command only starts
`PYTHON -m trainer CONFIG` (PYTHON: this interpreter, or one the user names), passes its output
through, and reads the run folder's status files when it ends.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from core.errors import StudioError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="LoRA fine-tune a VLM on an export (runs python -m trainer)")
    p.add_argument("config", type=Path, help="the run's YAML configuration (see docs/trainer.md)")
    p.add_argument(
        "--python", help="Python interpreter with torch/transformers/peft (default: this one)"
    )
    p.add_argument("--check", action="store_true", help="validate config and export only")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout at the end")
    p.set_defaults(func=cmd_train)


def output_dir(config: Path) -> Path | None:
    """The run folder a config names, resolved as the trainer resolves it (beside the config)."""
    import yaml

    try:
        raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    out = raw.get("output_dir") if isinstance(raw, dict) else None
    if not isinstance(out, str):
        return None
    p = Path(out).expanduser()
    return p if p.is_absolute() else (config.resolve().parent / p).resolve()


def trainer_command(config: Path, python: str | None = None, check: bool = False) -> list[str]:
    from core.trainer_launch import launch_spec

    return launch_spec(config, python, check).argv


def cmd_train(args) -> int:
    from core.cli import emit_json

    if not args.config.is_file():
        raise StudioError(f"config file not found: {args.config}")
    from core.trainer_launch import launch_spec

    spec = launch_spec(args.config, args.python, args.check)
    cmd = spec.argv
    # The trainer's own stdout (its final JSON line) goes to stderr under --json so that
    # our stdout stays one JSON document.
    stdout = sys.stderr if args.json else None
    try:
        code = subprocess.call(cmd, env=spec.env, cwd=spec.cwd, stdout=stdout)
    except OSError as exc:
        raise StudioError(f"cannot start {cmd[0]}: {exc.strerror or exc}") from None
    if args.json:
        emit_json(summary(args.config, code))
    return code


def summary(config: Path, code: int) -> dict:
    run = output_dir(config)
    out = {"exit_code": code, "run_dir": str(run) if run else None, "status": None, "eval": None}
    if run:
        for key, name in (("status", "status.json"), ("eval", "eval.json")):
            path = run / name
            if path.is_file():
                try:
                    out[key] = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError):
                    pass
    return out
