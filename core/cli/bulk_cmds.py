"""replace (find and replace over a selection), decide and move (bulk decisions, domains),
delete (to the trash), trash list|restore|empty.

A selection is the grid's filter as flags (--domain, --status, --itype, --item-status,
--text) or ids (--images 1,2,3); with none, every image.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.store.replace import FIELDS
from core.vocab import IMAGE_STATUSES


def _selection_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", help="only these images: comma-separated ids, e.g. 1,2,3")
    p.add_argument("--domain", help="only images of this domain ('' for those without one)")
    p.add_argument("--status", help="only images in this status")
    p.add_argument("--itype", help="only instructions of this type (and their images)")
    p.add_argument("--item-status", help="only instructions in this status (and their images)")
    p.add_argument("--text", default="", help="only images whose caption or items contain it")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replace", help="find and replace in questions, options, answers or captions"
    )
    p.add_argument("project", type=Path)
    p.add_argument("--find", required=True, help="text (or, with --regex, a pattern) to find")
    p.add_argument("--replace", required=True, dest="repl", help="what to put instead")
    p.add_argument("--regex", action="store_true", help="--find is an RE2 regular expression")
    p.add_argument("--ignore-case", action="store_true")
    p.add_argument(
        "--field",
        action="append",
        choices=FIELDS,
        help="where to replace (repeatable; default: all)",
    )
    _selection_flags(p)
    p.add_argument("--dry-run", action="store_true", help="list the changes, write nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_replace)

    p = sub.add_parser("decide", help="set the status of many images (and their undecided items)")
    p.add_argument("project", type=Path)
    p.add_argument("decision", metavar="STATUS", choices=IMAGE_STATUSES, help="the new status")
    _selection_flags(p)
    p.add_argument("--all", action="store_true", help="needed to decide with no selection flag")
    p.add_argument("--no-cascade", action="store_true", help="leave the instructions as they are")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_decide)

    p = sub.add_parser("move", help="move many images into a domain")
    p.add_argument("project", type=Path)
    p.add_argument("domain", help="an existing domain (see `domains list`)")
    _selection_flags(p)
    p.add_argument("--all", action="store_true", help="needed to move with no selection flag")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_move)

    p = sub.add_parser("delete", help="move images to the trash (undo: trash restore)")
    p.add_argument("project", type=Path)
    _selection_flags(p)
    p.add_argument("--all", action="store_true", help="needed to delete with no selection flag")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("trash", help="list, restore or empty deleted images")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = actions.add_parser("list", help="deletes in the trash, newest first")
    a.add_argument("project", type=Path)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_trash_list)
    a = actions.add_parser("restore", help="put a delete's images back")
    a.add_argument("project", type=Path)
    a.add_argument("id", type=int, help="the delete's id from `trash list`")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_trash_restore)
    a = actions.add_parser("empty", help="drop deletes for good and remove their media files")
    a.add_argument("project", type=Path)
    a.add_argument("ids", type=int, nargs="*", help="which deletes (default: all)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_trash_empty)


def _image_ids(text: str | None) -> list[int] | None:
    from core.errors import StudioError

    if text is None:
        return None
    try:
        ids = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise StudioError(f"--images: {text!r} is not a list of ids like 1,2,3") from None
    if not ids:
        raise StudioError("--images: no image id given; expected numbers like 1,2,3")
    return ids


def _selection(args):
    from core.store.browse import ImageQuery

    ids = _image_ids(args.images)
    if ids is not None:
        return ids
    return ImageQuery(
        domain=args.domain,
        status=args.status,
        itype=args.itype,
        item_status=args.item_status,
        text=args.text or "",
    )


def _has_flags(args) -> bool:
    return (
        any(
            v not in (None, "")
            for v in (
                args.images,
                args.domain,
                args.status,
                args.itype,
                args.item_status,
                args.text,
            )
        )
        or args.domain == ""
    )


def _short(value) -> str:
    text = " | ".join(value) if isinstance(value, list) else str(value)
    return text if len(text) <= 70 else text[:67] + "..."


def cmd_replace(args) -> int:
    from core import replace
    from core.cli import emit_json
    from core.project import Project

    with Project.open(args.project) as project:
        plan = replace.plan(
            project.db,
            _selection(args),
            args.find,
            args.repl,
            regex=args.regex,
            match_case=not args.ignore_case,
            fields=tuple(args.field or FIELDS),
        )
        written = [] if args.dry_run else replace.apply(project, plan)
    if args.json:
        emit_json(plan.to_json() | {"written": len(written), "dry_run": args.dry_run})
        return 0
    for e in plan.edits:
        h = e.hit
        mark = f"  (left out: {e.problem})" if e.problem else ""
        print(
            f"image {h.image_id} {h.field} #{h.row_id}: {_short(h.old)!r} -> {_short(e.new)!r}{mark}"
        )
    verb = "would change" if args.dry_run else "changed"
    print(f"{verb} {len(plan.valid)} value(s) in {len(plan.images())} image(s)", end="")
    print(f"; {len(plan.refused)} left out" if plan.refused else "")
    return 0


def _require_selection(args) -> None:
    if not _has_flags(args) and not args.all:
        from core.errors import StudioError

        raise StudioError("no selection given: pass --images/--domain/... or --all")


def _counts(changes) -> dict:
    return {
        "images": sum(1 for c in changes if c.table == "images"),
        "instructions": sum(1 for c in changes if c.table == "instructions"),
    }


def cmd_decide(args) -> int:
    from core.cli import emit_json
    from core.project import Project
    from core.store.bulk import decide_images

    _require_selection(args)
    with Project.open(args.project) as project:
        changes = decide_images(
            project.db, _selection(args), args.decision, cascade=not args.no_cascade
        )
    counts = _counts(changes)
    if args.json:
        emit_json({"status": args.decision} | counts)
    else:
        print(
            f"{args.decision}: {counts['images']} image(s), {counts['instructions']} "
            "instruction(s) changed (each logged in revisions)"
        )
    return 0


def cmd_move(args) -> int:
    from core.cli import emit_json
    from core.project import Project
    from core.store.bulk import move_images

    _require_selection(args)
    with Project.open(args.project) as project:
        changes = move_images(project.db, _selection(args), args.domain)
    if args.json:
        emit_json({"domain": args.domain, "images": len(changes)})
    else:
        print(f"moved {len(changes)} image(s) to {args.domain}")
    return 0


def cmd_delete(args) -> int:
    from core.cli import emit_json
    from core.project import Project
    from core.trash import delete_images

    _require_selection(args)
    with Project.open(args.project) as project:
        batch = delete_images(project, _selection(args))
    if args.json:
        emit_json(batch.to_json())
    else:
        print(
            f"moved {batch.n_images} image(s) to the trash as delete {batch.id}; "
            f"undo with: mmstudio trash restore {args.project} {batch.id}"
        )
    return 0


def cmd_trash_list(args) -> int:
    from core.cli import emit_json
    from core.project import Project
    from core.trash import list_trash

    with Project.open(args.project) as project:
        batches = list_trash(project)
    if args.json:
        emit_json({"trash": [b.to_json() for b in batches]})
        return 0
    if not batches:
        print("the trash is empty")
    for b in batches:
        when = b.created_at.strftime("%Y-%m-%d %H:%M:%S") if b.created_at else "?"
        rows = ", ".join(f"{n} {t}" for t, n in b.counts.items() if t != "images")
        print(f"{b.id}  {when}  {b.n_images} image(s)  {rows}  {b.reason or ''}".rstrip())
    return 0


def cmd_trash_restore(args) -> int:
    from core.cli import emit_json
    from core.project import Project
    from core.trash import restore

    with Project.open(args.project) as project:
        batch = restore(project, args.id)
    if args.json:
        emit_json({"restored": batch.to_json()})
    else:
        print(f"restored {batch.n_images} image(s) of delete {batch.id}")
    return 0


def cmd_trash_empty(args) -> int:
    from core.cli import emit_json
    from core.project import Project
    from core.trash import empty

    with Project.open(args.project) as project:
        done = empty(project, args.ids or None)
    if args.json:
        emit_json(done)
    else:
        print(
            f"emptied {done['deletes']} delete(s): {done['images']} image(s) gone for good, "
            f"{done['files_removed']} file(s) removed"
        )
    return 0
