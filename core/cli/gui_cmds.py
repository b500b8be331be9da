"""`mmstudio gui [PROJECT]`: open the desktop studio (the bundled demo project by default)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the desktop studio on a project (default: the demo)")
    p.add_argument("project", type=Path, nargs="?", help="project folder (default: demo project)")
    p.set_defaults(func=cmd_gui)


def cmd_gui(args) -> int:
    # Qt is imported here, not at module import: the rest of the CLI runs without a display.
    from desktop.app import run

    return run(args.project)
