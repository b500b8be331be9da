"""collect urls / search / licenses, and clip models / embed / relevance / search / dups / expand.

Every command prints a sentence or, with --json, the documented object (docs/cli.md).
Nothing here imports torch: the collect functions load it when a CLIP step runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.progress import Progress
from core.project import Project


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON object on stdout")


def _add_download(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("downloads")
    g.add_argument("--timeout", type=float, default=20.0, help="seconds to connect / per read")
    g.add_argument("--max-mb", type=float, default=50.0, help="largest file to download, MB")
    g.add_argument("--retries", type=int, default=2, help="extra attempts on transient errors")
    g.add_argument("--concurrency", type=int, default=4, help="downloads at once")
    g.add_argument("--workers", type=int, help="decoder processes for the import (0: in process)")


def _policy(args):
    from core.collect.download import DownloadPolicy

    return DownloadPolicy(
        timeout_s=args.timeout,
        max_bytes=int(args.max_mb * (1 << 20)),
        retries=max(0, args.retries),
        concurrency=max(1, args.concurrency),
    )


def _seed_ids(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("--seeds takes image ids separated by commas") from None


def register(sub: argparse._SubParsersAction) -> None:
    collect = sub.add_parser("collect", help="collect images from URL lists and licensed search")
    csub = collect.add_subparsers(dest="collect_command", metavar="ACTION", required=True)

    p = csub.add_parser("urls", help="download and import the images of a URL list")
    p.add_argument("project", type=Path)
    p.add_argument(
        "file", type=Path, help=".txt (url[TAB title[TAB caption]]), .csv, .tsv, .parquet"
    )
    p.add_argument("--domain", required=True)
    p.add_argument("--refetch", action="store_true", help="download URLs collected before, too")
    _add_download(p)
    _add_json(p)
    p.set_defaults(func=cmd_urls)

    p = csub.add_parser("search", help="search Openverse for openly licensed images")
    p.add_argument("project", type=Path)
    p.add_argument("--domain", required=True)
    p.add_argument(
        "--query", action="append", help="search text (repeatable; default: the domain's keywords)"
    )
    p.add_argument("--pages", type=int, default=1, help="result pages per query (20 results each)")
    p.add_argument("--license-type", default="all", choices=("all", "commercial", "modification"))
    p.add_argument(
        "--base-url",
        help="API base URL (default: MMSTUDIO_OPENVERSE_URL or https://api.openverse.org)",
    )
    p.add_argument("--interval", type=float, default=1.0, help="seconds between API requests")
    _add_download(p)
    _add_json(p)
    p.set_defaults(func=cmd_search)

    p = csub.add_parser("licenses", help="images per license")
    p.add_argument("project", type=Path)
    p.add_argument("--domain")
    _add_json(p)
    p.set_defaults(func=cmd_licenses)

    clip = sub.add_parser("clip", help="CLIP embeddings: relevance, search, duplicates, expand")
    ksub = clip.add_subparsers(dest="clip_command", metavar="ACTION", required=True)

    p = ksub.add_parser("models", help="the CLIP model catalog")
    _add_json(p)
    p.set_defaults(func=cmd_models)

    p = ksub.add_parser("embed", help="embed images that have no vector from the model yet")
    p.add_argument("project", type=Path)
    p.add_argument(
        "--model",
        help="catalog name or local folder (default: the model used last, else clip-vit-b32)",
    )
    p.add_argument("--domain")
    p.add_argument("--force", action="store_true", help="embed again images that have a vector")
    p.add_argument("--batch-size", type=int, default=32)
    _add_json(p)
    p.set_defaults(func=cmd_embed)

    p = ksub.add_parser("forget", help="delete a model's vectors, scores and groups")
    p.add_argument("project", type=Path)
    p.add_argument("--model", required=True)
    _add_json(p)
    p.set_defaults(func=cmd_forget)

    p = ksub.add_parser("relevance", help="flag images unlike their domain's prompts")
    p.add_argument("project", type=Path)
    p.add_argument("--model", help="default: the model used last")
    p.add_argument("--threshold", type=float, help="cosine below which an image is flagged")
    p.add_argument("--domain")
    p.add_argument("--list", action="store_true", help="also list the flagged images")
    _add_json(p)
    p.set_defaults(func=cmd_relevance)

    p = ksub.add_parser("search", help="images like a text, an image id or an image file")
    p.add_argument("project", type=Path)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--text")
    what.add_argument("--image", type=int, help="id of a project image")
    what.add_argument("--file", type=Path, help="an image file outside the project")
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--domain")
    p.add_argument("--model")
    _add_json(p)
    p.set_defaults(func=cmd_search_clip)

    p = ksub.add_parser("dups", help="group near duplicates by embedding")
    p.add_argument("project", type=Path)
    p.add_argument("--threshold", type=float, help="image-image cosine (default: the model's)")
    p.add_argument("--domain")
    p.add_argument("--model")
    _add_json(p)
    p.set_defaults(func=cmd_dups)

    p = ksub.add_parser("expand", help="import pool images similar to a domain's seed images")
    p.add_argument("project", type=Path)
    p.add_argument("--domain", required=True)
    p.add_argument(
        "--pool", type=Path, required=True, help="a folder, or a .parquet of image bytes or URLs"
    )
    p.add_argument("--seeds", type=_seed_ids, help="image ids (default: the domain's accepted)")
    p.add_argument("--k", type=int, default=10, help="neighbours per seed")
    p.add_argument("--min-score", type=float, help="skip neighbours less similar than this")
    p.add_argument(
        "--model",
        help="catalog name or local folder (default: the model used last, else clip-vit-b32)",
    )
    p.add_argument("--dry-run", action="store_true", help="list the candidates, import nothing")
    _add_download(p)
    _add_json(p)
    p.set_defaults(func=cmd_expand)


def _emit(args, obj: dict, text: str) -> int:
    from core.cli import emit_json

    if args.json:
        emit_json(obj)
    else:
        print(text)
    return 0


# collect -----------------------------------------------------------------------------------
def cmd_urls(args) -> int:
    from core.collect.ingest import collect_url_list

    with Project.open(args.project) as project, Progress("collect") as bar:
        s = collect_url_list(
            project,
            args.file,
            domain=args.domain,
            policy=_policy(args),
            skip_known=not args.refetch,
            workers=args.workers,
            progress=bar,
        )
    return _emit(args, s.to_json(), s.describe())


def cmd_search(args) -> int:
    from core.collect.openverse import OpenverseClient, search_domain

    with Project.open(args.project) as project, Progress("collect") as bar:
        with OpenverseClient(args.base_url, min_interval_s=max(0.0, args.interval)) as client:
            s = search_domain(
                project,
                args.domain,
                args.query,
                pages=args.pages,
                license_type=args.license_type,
                client=client,
                policy=_policy(args),
                workers=args.workers,
                progress=bar,
            )
    text = s.describe()
    for e in s.extra.get("search_errors", []):
        text += f"\n  search failed: {e['error']}"
    return _emit(args, s.to_json(), text)


def cmd_licenses(args) -> int:
    from core.store.collect import license_summary

    with Project.open(args.project) as project:
        counts = license_summary(project.db, args.domain)
    text = "\n".join(f"{n:>7}  {lic}" for lic, n in counts.items()) or "no images"
    return _emit(args, {"domain": args.domain, "licenses": counts}, text)


# clip --------------------------------------------------------------------------------------
def cmd_models(args) -> int:
    from core.collect.catalog import catalog

    default, specs = catalog()
    obj = {"default": default, "models": [s.to_json() for s in specs.values()]}
    text = "\n".join(
        f"{'*' if s.name == default else ' '} {s.name:<14} {s.repo:<36} {s.dim}-d "
        f"~{s.size_mb} MB  {s.license}"
        for s in specs.values()
    )
    return _emit(args, obj, text)


def cmd_embed(args) -> int:
    from core.collect.embed import embed_images

    with Project.open(args.project) as project, Progress("embed") as bar:
        s = embed_images(
            project,
            args.model,
            domain=args.domain,
            force=args.force,
            batch_size=max(1, args.batch_size),
            progress=bar,
        )
    return _emit(args, s.to_json(), s.describe())


def cmd_forget(args) -> int:
    from core.collect.embed import forget_model

    with Project.open(args.project) as project:
        out = forget_model(project, args.model)
    return _emit(args, out, f"Deleted {out['vectors']} vector(s) of {out['forgotten']}.")


def cmd_relevance(args) -> int:
    from core.collect.relevance import off_domain_images, score_relevance

    with Project.open(args.project) as project, Progress("relevance") as bar:
        s = score_relevance(
            project, args.model, threshold=args.threshold, domain=args.domain, progress=bar
        )
        flagged = off_domain_images(project, s.model, args.domain) if args.list else None
    obj, text = s.to_json(), s.describe()
    if flagged is not None:
        obj["off_domain"] = flagged
        text += "".join(
            f"\n  image {r['image_id']} ({r['domain']}): {r['score']:.3f}, looks like "
            f"{r['best_domain']}"
            for r in flagged
        )
    return _emit(args, obj, text)


def cmd_search_clip(args) -> int:
    from core.collect.embed import stored_model
    from core.collect.similarity import search_image_file, search_text, similar_images

    with Project.open(args.project) as project:
        model = stored_model(project, args.model).name
        common = dict(k=args.k, model=model, domain=args.domain)
        if args.text is not None:
            query, hits = {"text": args.text}, search_text(project, args.text, **common)
        elif args.image is not None:
            query, hits = {"image": args.image}, similar_images(project, args.image, **common)
        else:
            query = {"file": str(args.file)}
            hits = search_image_file(project, str(args.file), **common)
    obj = {"model": model, "query": query, "hits": [h.to_json() for h in hits]}
    text = (
        "\n".join(
            f"{h.score:8.4f}  {h.image_id:>7}  {h.domain or '-':<16} {h.title or h.path}"
            for h in hits
        )
        or "no embedded images match"
    )
    return _emit(args, obj, text)


def cmd_dups(args) -> int:
    from core.collect.similarity import group_near_duplicates

    with Project.open(args.project) as project:
        out = group_near_duplicates(project, args.threshold, args.model, args.domain)
    text = (
        f"{len(out['groups'])} group(s) of near duplicates among {out['images']} image(s) "
        f"(cosine >= {out['threshold']:g})"
    )
    text += "".join(f"\n  {', '.join(map(str, g))}" for g in out["groups"])
    return _emit(args, out, text)


def cmd_expand(args) -> int:
    from core.collect.expand import expand_domain

    with Project.open(args.project) as project, Progress("expand") as bar:
        s = expand_domain(
            project,
            args.domain,
            args.pool,
            seeds=args.seeds,
            k=args.k,
            min_score=args.min_score,
            model=args.model,
            policy=_policy(args),
            workers=args.workers,
            dry_run=args.dry_run,
            progress=bar,
        )
    text = s.describe()
    if args.dry_run:
        text += "".join(
            f"\n  {c['score']:.4f}  seed {c['seed_id']}  {c['source']}" for c in s.candidates
        )
    return _emit(args, s.to_json(), text)
