"""init / import / stats."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.progress import Progress
from core.project import Project
from core.store.stats import DEFAULT_RISK_THRESHOLD, library_stats


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create a project folder")
    p.add_argument("project", type=Path)
    p.add_argument("--name")
    p.add_argument("--no-default-domains", action="store_true", help="start with an empty taxonomy")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("import", help="import image files, folders or zip archives")
    p.add_argument("project", type=Path)
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--domain", help="domain the images belong to (created if new)")
    p.add_argument(
        "--reference",
        action="store_true",
        help="keep files where they are instead of copying them into media/",
    )
    p.add_argument("--near-threshold", type=int, help="pHash Hamming distance for near duplicates")
    p.add_argument("--workers", type=int, help="thumbnail worker processes (default: CPU count)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("stats", help="counts by domain and status")
    p.add_argument("project", type=Path)
    p.add_argument("--json", action="store_true")
    p.add_argument("--risk-threshold", type=float, default=DEFAULT_RISK_THRESHOLD,
                   help="count items per domain and type whose risk is at least this (0-1)")  # fmt: skip
    p.set_defaults(func=cmd_stats)


def cmd_init(args) -> int:
    from core.domains import install_defaults

    with Project.create(args.project, name=args.name) as project:
        if not args.no_default_domains:
            install_defaults(project.db)
        print(f"created project {project.root}")
    return 0


def cmd_import(args) -> int:
    from core.cli import emit_json
    from core.library.importer import import_paths

    with Project.open(args.project) as project:
        with Progress("import", enabled=True) as bar:
            summary = import_paths(
                project,
                args.paths,
                domain=args.domain,
                reference=args.reference,
                near_threshold=args.near_threshold,
                workers=args.workers,
                progress=bar,
            )
    if args.json:
        emit_json(summary.to_json())
    else:
        print(summary.describe())
    return 0


def cmd_stats(args) -> int:
    from core.cli import emit_json

    if not 0.0 <= args.risk_threshold <= 1.0:
        from core.errors import StudioError

        raise StudioError(f"--risk-threshold must be between 0 and 1, not {args.risk_threshold}")
    with Project.open(args.project) as project:
        stats = library_stats(project.db, args.risk_threshold)
    if args.json:
        emit_json(stats)
        return 0
    print(
        f"{stats['images']} images, {stats['rejected']} rejected, {stats['instructions']} instructions"
    )
    for domain, entry in stats["by_domain"].items():
        statuses = ", ".join(f"{k} {v}" for k, v in entry["by_status"].items())
        print(f"  {domain or '(no domain)'}: {entry['images']} images ({statuses})")
        risky = stats["risk"]["by_domain"].get(domain, {})
        above = sum(t["above"] for t in risky.values())
        if any(t["scored"] for t in risky.values()):
            print(f"    {above} instructions at risk >= {stats['risk']['threshold']}")
    return 0
