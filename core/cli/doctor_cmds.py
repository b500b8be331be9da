"""doctor: check (and with --fix repair) that a project agrees with itself."""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_PROBLEMS = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check the database, media files, thumbnails and jobs")
    p.add_argument("project", type=Path)
    p.add_argument(
        "--fix",
        action="store_true",
        help="re-make thumbnails, move orphan files to trash/, reset stuck job items",
    )
    p.add_argument("--quick", action="store_true", help="skip the full read and the hashing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args) -> int:
    import sys

    from core.cli import EXIT_DAMAGED, emit_json
    from core.doctor import check
    from core.project import Project

    with Project.open(args.project) as project:
        report = check(project, fix=args.fix, quick=args.quick)
    if args.json:
        emit_json(report.to_json())
    else:
        print(report.describe())
    if not report.integrity.get("ok", True):
        print(f"error: {report.integrity['message']}", file=sys.stderr)
        return EXIT_DAMAGED
    return 0 if report.ok else EXIT_PROBLEMS
