"""backup list / create / restore, and doctor."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="list, take or restore snapshots of a project's database")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = actions.add_parser("list", help="the project's snapshots, newest first")
    a.add_argument("project", type=Path)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_list)
    a = actions.add_parser("create", help="take a snapshot now")
    a.add_argument("project", type=Path)
    a.add_argument("--reason", default="manual", help="word stored with the snapshot")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_create)
    a = actions.add_parser(
        "restore", help="put a snapshot in place of the database (the current file is kept)"
    )
    a.add_argument("project", type=Path)
    a.add_argument("snapshot", nargs="?", help="name from `backup list` (default: the newest)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_restore)


def _root(path: Path) -> Path:
    return Path(path).expanduser().resolve()


def cmd_list(args) -> int:
    from core.cli import emit_json
    from core.store.backup import list_snapshots

    snaps = list_snapshots(_root(args.project))
    if args.json:
        emit_json({"snapshots": [s.to_json() for s in snaps]})
        return 0
    if not snaps:
        print(f"no backups in {_root(args.project) / 'backups'}")
    for s in snaps:
        when = s.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        print(f"{s.name}  {when}  {s.reason}  {s.bytes / 1e6:.1f} MB")
    return 0


def cmd_create(args) -> int:
    from core.cli import emit_json
    from core.project import Project
    from core.store.backup import snapshot

    with Project.open(args.project) as project:
        snap = snapshot(project, args.reason)
    if args.json:
        emit_json(snap.to_json())
    else:
        print(f"backup written: {snap.path} ({snap.bytes / 1e6:.1f} MB)")
    return 0


def cmd_restore(args) -> int:
    from core.cli import emit_json
    from core.store.backup import restore

    done = restore(_root(args.project), args.snapshot)
    if args.json:
        emit_json(done.to_json())
        return 0
    print(f"restored {done.snapshot.name} ({done.snapshot.reason})")
    if done.kept_aside:
        print(
            f"the file it replaced is kept as backups/{done.kept_aside}; "
            f"undo with: mmstudio backup restore {args.project} {done.kept_aside}"
        )
    return 0
