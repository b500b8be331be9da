"""`mmstudio`: the headless face of the studio. Each area registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys

from core import __version__
from core.errors import ProjectDamaged, StudioError

# Modules that define `register(subparsers)`. Order is the order shown in --help.
COMMAND_MODULES = [
    "core.cli.project_cmds",
    "core.cli.domain_cmds",
    "core.cli.train_cmds",
    "core.cli.export_cmds",
    "core.cli.caption_cmds",
    "core.cli.gui_cmds",
    "core.cli.backend_cmds",
    "core.cli.run_cmds",
    "core.cli.bulk_cmds",
    "core.cli.collect_cmds",
    "core.cli.backup_cmds",
    "core.cli.doctor_cmds",
]
EXIT_DAMAGED = 3  # the project file is damaged: the message names the backup to restore


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmstudio",
        description="MMInstruct Studio: build multimodal instruction data and fine-tune on it.",
    )
    parser.add_argument("--version", action="version", version=f"mmstudio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def emit_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    from core.backends.keys import install_redaction

    install_redaction(*logging.getLogger().handlers)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ProjectDamaged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_DAMAGED
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `mmstudio stats | head`: the reader left; quietly stop writing.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
