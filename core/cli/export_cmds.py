"""export / validate / import-data: training data out of and into a project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# The format registry's names (core.export.formats imports neither DuckDB nor pyarrow).
from core.export.formats import FORMATS


def _listed(values: list[str] | None) -> list[str] | None:
    """Repeatable options that also take comma-separated lists."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write training data (LLaVA, ShareGPT, HF parquet, TRL, InternVL, webdataset)",
    )
    p.add_argument("project", type=Path)
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, type=Path, help="a new (or empty) folder")
    p.add_argument("--status", action="append", help="instruction status(es) (default: accepted)")
    p.add_argument(
        "--domain", action="append", help="only these domains (repeat or comma-separate)"
    )
    p.add_argument("--type", action="append", help="only these instruction types")
    p.add_argument("--lang", action="append", help="only these languages (en, zh)")
    p.add_argument(
        "--val-fraction", type=float, default=0.0, help="share of images per domain in val"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the train/val split")
    p.add_argument(
        "--images",
        default="hardlink",
        choices=("hardlink", "copy", "symlink"),
        help="how image files reach the export (default hardlink, a copy where impossible)",
    )
    p.add_argument(
        "--multi-turn", action="store_true", help="one record per image with all its QAs"
    )
    p.add_argument("--no-suffix", action="store_true", help="do not append answer-format suffixes")
    p.add_argument(
        "--unsafe-text",
        default="escape",
        choices=("escape", "skip", "fail"),
        help="items holding chat-template tokens (<image>, </s>, <|im_end|>, USER:...): escape "
        "them reversibly (default), skip their records, or refuse the export",
    )
    p.add_argument(
        "--original-bytes",
        action="store_true",
        help="images exactly as imported (default: EXIF-rotated, 8-bit RGB, alpha on white, "
        "first frame; see docs/export.md)",
    )
    p.add_argument("--max-side", type=int, help="normalized images: longest side in pixels")
    p.add_argument("--shard-size", type=int, help="webdataset: samples per tar shard (5000)")
    p.add_argument(
        "--push-to-hub",
        metavar="REPO",
        help="hf format: upload the export as the dataset repo REPO (user/name); token from "
        "HF_TOKEN or the OS keyring",
    )
    p.add_argument("--private", action="store_true", help="with --push-to-hub: a private repo")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("hub-push", help="upload an HF export folder to the Hugging Face Hub")
    p.add_argument("folder", type=Path, help="an export folder written with --format hf")
    p.add_argument("repo", help="dataset repo id, user/name")
    p.add_argument("--private", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_hub_push)

    p = sub.add_parser(
        "validate", help="check a training file or export folder; exit 1 when invalid"
    )
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=FORMATS, help="default: detected from the file")
    p.add_argument("--image-folder", type=Path, help="where relative LLaVA image paths point")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("import-data", help="import training data (QAs and images) into a project")
    p.add_argument("project", type=Path)
    p.add_argument("file", type=Path, help="an export folder or a data file")
    p.add_argument("--format", choices=FORMATS, help="default: detected from the file")
    p.add_argument("--domain", help="domain of images whose record names none")
    p.add_argument("--status", default="accepted", help="status of the imported instructions")
    p.add_argument(
        "--skip-invalid", action="store_true", help="skip invalid records instead of stopping"
    )
    p.add_argument("--image-folder", type=Path, help="where relative LLaVA image paths point")
    p.add_argument("--workers", type=int, help="image worker processes (0: in this process)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import_data)


def _progress(enabled: bool):
    if not enabled:
        return None
    return lambda what: print(f"  {what}", file=sys.stderr, flush=True)


def cmd_export(args) -> int:
    from core.cli import emit_json
    from core.export.writer import ExportOptions, export_project
    from core.project import Project

    options = ExportOptions(
        format=args.format,
        statuses=_listed(args.status) or ["accepted"],
        domains=_listed(args.domain),
        itypes=_listed(args.type),
        langs=_listed(args.lang),
        val_fraction=args.val_fraction,
        seed=args.seed,
        images=args.images,
        multi_turn=args.multi_turn,
        suffix=None if args.no_suffix else "auto",
        unsafe_text=args.unsafe_text,
        original_bytes=args.original_bytes,
        max_side=args.max_side,
        shard_size=args.shard_size,
    )
    if args.push_to_hub or args.private:
        from core.export.hub import HubError, check_repo_id

        if not args.push_to_hub:
            raise HubError("--private goes with --push-to-hub")
        if args.format != "hf":
            raise HubError("--push-to-hub uploads an HF parquet export: use --format hf")
        check_repo_id(args.push_to_hub)
        from core.export.hub import check_online, hub_endpoint, hub_token

        hub_token()  # no token, or no network: say so before spending time on the export
        check_online(hub_endpoint())
    with Project.open(args.project) as project:
        result = export_project(project, args.out, options, on_progress=_progress(not args.json))
    if args.push_to_hub:
        from core.export.hub import push_export

        result.hub = push_export(
            result.out, args.push_to_hub, private=args.private, on_progress=_progress(not args.json)
        )
    hub = result.hub
    if args.json:
        emit_json(result.to_json())
        return 0
    c = result.manifest["counts"]
    print(
        f"exported {c['records']} records ({c['instructions']} QAs, {c['images']} images) "
        f"as {args.format} to {result.out}"
    )
    for split, s in c["splits"].items():
        print(f"  {split}: {s['records']} records, {s['images']} images")
    if hub:
        print(f"  pushed {hub['files']} files to {hub['url']} (commit {hub['commit'][:12]})")
    unsafe = result.manifest.get("unsafe_text") or {}
    if unsafe.get("items"):
        kinds = ", ".join(f"{k} {n}" for k, n in unsafe["by_kind"].items())
        done = (
            "escaped"
            if unsafe["mode"] == "escape"
            else f"skipped ({unsafe['records_skipped']} records)"
        )
        print(f"  {unsafe['items']} items held chat-template tokens ({kinds}): {done}")
    return 0


def cmd_hub_push(args) -> int:
    from core.cli import emit_json
    from core.export.hub import push_export

    hub = push_export(
        args.folder, args.repo, private=args.private, on_progress=_progress(not args.json)
    )
    if args.json:
        emit_json(hub)
    else:
        print(f"pushed {hub['files']} files ({hub['bytes']:,} bytes) to {hub['url']}")
    return 0


def cmd_validate(args) -> int:
    from core.cli import emit_json
    from core.export.validate import validate_path

    report = validate_path(args.file, args.format, image_folder=args.image_folder)
    if args.json:
        emit_json(report.to_json())
    else:
        print(report.describe())
    return 0 if report.ok else 1


def cmd_import_data(args) -> int:
    from core.cli import emit_json
    from core.export.importer import import_data
    from core.project import Project

    with Project.open(args.project) as project:
        summary = import_data(
            project,
            args.file,
            args.format,
            domain=args.domain,
            status=args.status,
            skip_invalid=args.skip_invalid,
            image_folder=args.image_folder,
            workers=args.workers,
            on_progress=_progress(not args.json),
        )
    if args.json:
        emit_json(summary.to_json())
    else:
        print(summary.describe())
    return 0
