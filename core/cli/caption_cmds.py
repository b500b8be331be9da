"""captions import: bring your own captions into a project (core/export/captions.py)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("captions", help="captions of a project's images")
    inner = p.add_subparsers(dest="captions_command", metavar="ACTION", required=True)
    q = inner.add_parser(
        "import",
        help="import captions (JSONL, JSON, CSV; ShareGPT4V and MMInstruct caption files) as "
        "new versions",
    )
    q.add_argument("project", type=Path)
    q.add_argument("file", type=Path)
    q.add_argument("--lang", help="language of rows that name none (default: guessed per row)")
    q.add_argument("--model", help="model that wrote the captions (provenance) if rows name none")
    q.add_argument(
        "--key",
        default="auto",
        choices=("auto", "id", "sha256", "path", "name"),
        help="how rows name their image (default: image_id, sha256, source path, file name)",
    )
    q.add_argument(
        "--require-all", action="store_true", help="import nothing if any row matches no image"
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    from core.cli import emit_json
    from core.export.captions import import_captions
    from core.project import Project

    with Project.open(args.project) as project:
        summary = import_captions(
            project,
            args.file,
            lang=args.lang,
            model=args.model,
            key=args.key,
            require_all=args.require_all,
        )
    if args.json:
        emit_json(summary.to_json())
    else:
        print(summary.describe())
    return 0
