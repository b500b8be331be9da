"""`mmstudio train CONFIG.yaml`: run the trainer as its own process and report its run folder.

The trainer needs torch; the CLI and the app must not. So this command only starts
`PYTHON -m trainer CONFIG` (PYTHON: this interpreter, or one the user names), passes its output
through, and reads the run folder's status files when it ends.
"""

from __future__ import annotations

import argparse
import json
import os
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


def child_env() -> dict:
    """The trainer's environment: the user's, without the bundle's library paths, and with
    our plain `trainer`/`core` sources importable by a foreign interpreter."""
    from core.childenv import clean_child_env
    from core.frozen import source_dir

    env = clean_child_env(os.environ)
    root = source_dir()
    if root:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    return env


def trainer_command(config: Path, python: str | None = None, check: bool = False) -> list[str]:
    cmd = [python or sys.executable, "-m", "trainer", str(Path(config).resolve())]
    return cmd + ["--check"] if check else cmd


def cmd_train(args) -> int:
    from core.cli import emit_json

    if not args.config.is_file():
        raise StudioError(f"config file not found: {args.config}")
    cmd = trainer_command(args.config, args.python, args.check)
    # The trainer's own stdout (its final JSON line) goes to stderr under --json so that
    # our stdout stays one JSON document.
    stdout = sys.stderr if args.json else None
    try:
        code = subprocess.call(cmd, env=child_env(), stdout=stdout)
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
