"""domains list|add|rename|delete, seeds list|import, demo.

Each of `domains` and `seeds` takes an action word first (`domains list PROJECT`,
`domains add PROJECT NAME`), so a project folder named like an action can never be misread.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.domains.model import ITYPES, LANGS
from core.project import Project


def register(sub: argparse._SubParsersAction) -> None:
    _register_domains(sub)
    _register_seeds(sub)
    p = sub.add_parser("demo", help="create (once) the bundled demo project and show its stats")
    p.add_argument("--path", type=Path, help="where to build it (default: the user data folder)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)


def _group(sub, name: str, help_text: str) -> argparse._SubParsersAction:
    parser = sub.add_parser(name, help=help_text)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    return parser.add_subparsers(dest=f"{name}_action", metavar="ACTION")


def _register_domains(sub) -> None:
    actions = _group(sub, "domains", "list and edit the project's domains")
    p = actions.add_parser("list", help="domains with image and seed counts")
    p.add_argument("project", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_domains_list)

    p = actions.add_parser("add", help="add a domain")
    p.add_argument("project", type=Path)
    p.add_argument("name", help="snake_case id, e.g. street_food")
    p.add_argument("--title")
    p.add_argument("--description", default="")
    p.add_argument("--keywords", help="comma-separated collection keywords")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_domains_add)

    p = actions.add_parser("rename", help="rename a domain (its images and seeds follow)")
    p.add_argument("project", type=Path)
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_domains_rename)

    p = actions.add_parser("delete", help="delete a domain and its seeds")
    p.add_argument("project", type=Path)
    p.add_argument("name")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--reassign-to", metavar="DOMAIN", help="move its images to DOMAIN")
    how.add_argument("--force", action="store_true", help="keep its images without a domain")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_domains_delete)


def _register_seeds(sub) -> None:
    actions = _group(sub, "seeds", "list and import seed questions")
    p = actions.add_parser("list", help="seed questions, filtered")
    p.add_argument("project", type=Path)
    p.add_argument("--domain")
    p.add_argument("--type", dest="itype", choices=ITYPES)
    p.add_argument("--lang", choices=LANGS)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_seeds_list)

    p = actions.add_parser("import", help="import MMInstruct seed files (NNNNN_<domain>.json)")
    p.add_argument("project", type=Path)
    p.add_argument("folder", type=Path, help="folder of seed files, or one file")
    p.add_argument("--dry-run", action="store_true", help="count only; change nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_seeds_import)


def _emit(obj) -> None:
    from core.cli import emit_json

    emit_json(obj)


def cmd_domains_list(args) -> int:
    from core.domains import list_domains

    with Project.open(args.project) as project:
        rows = list_domains(project.db)
    if args.json:
        _emit({"domains": [r.to_json() for r in rows]})
        return 0
    width = max((len(r.name) for r in rows), default=4)
    for r in rows:
        print(
            f"{r.position:>3}  {r.name:<{width}}  {r.images:>6} images  {r.seeds:>4} seeds  {r.title}"
        )
    if not rows:
        print("no domains")
    return 0


def cmd_domains_add(args) -> int:
    from core.domains import add_domain

    with Project.open(args.project) as project:
        row = add_domain(
            project.db, args.name, args.title, args.description, keywords=args.keywords
        )
    if args.json:
        _emit(row.to_json())
    else:
        print(f"added domain {row.name} ({row.title}) at position {row.position}")
    return 0


def cmd_domains_rename(args) -> int:
    from core.domains import rename_domain

    with Project.open(args.project) as project:
        moved = rename_domain(project.db, args.old, args.new)
    if args.json:
        _emit({"old": args.old, "new": args.new, "moved": moved})
    else:
        print(
            f"renamed {args.old} -> {args.new}: {moved.get('images', 0)} images, {moved.get('seeds', 0)} seeds"
        )
    return 0


def cmd_domains_delete(args) -> int:
    from core.domains import delete_domain

    with Project.open(args.project) as project:
        counts = delete_domain(
            project.db, args.name, force=args.force, reassign_to=args.reassign_to
        )
    if args.json:
        _emit({"deleted": args.name, **counts})
    else:
        print(
            f"deleted {args.name}: {counts['seeds_deleted']} seeds removed, "
            f"{counts['images_moved']} images "
            + (f"moved to {args.reassign_to}" if args.reassign_to else "left without a domain")
        )
    return 0


def cmd_seeds_list(args) -> int:
    from core.domains import list_seeds

    with Project.open(args.project) as project:
        rows = list_seeds(project.db, args.domain, args.itype, args.lang)
    if args.json:
        _emit({"count": len(rows), "seeds": [r.to_json() for r in rows]})
        return 0
    for r in rows:
        print(f"{r.id:>6}  {r.domain}  {r.itype}  {r.lang}  {r.text}")
    print(f"{len(rows)} seed(s)")
    return 0


def cmd_seeds_import(args) -> int:
    from core.domains import import_mminstruct_seeds

    with Project.open(args.project) as project:
        report = import_mminstruct_seeds(project.db, args.folder, dry_run=args.dry_run)
    if args.json:
        _emit(report.to_json())
    else:
        print(report.describe())
    return 0


def cmd_demo(args) -> int:
    from core.demo import ensure_demo_project
    from core.paths import demo_project_dir
    from core.project import DB_NAME
    from core.store.stats import library_stats

    root = Path(args.path).expanduser().resolve() if args.path else demo_project_dir()
    created = not (root / DB_NAME).is_file()
    root = ensure_demo_project(root)
    with Project.open(root) as project:
        stats = library_stats(project.db)
    if args.json:
        _emit({"path": str(root), "created": created, "stats": stats})
        return 0
    print(f"demo project: {root}{' (created)' if created else ''}")
    print(
        f"{stats['images']} images, {stats['rejected']} rejected, {stats['instructions']} instructions"
    )
    for domain, entry in stats["by_domain"].items():
        print(f"  {domain or '(no domain)'}: {entry['images']} images")
    return 0
