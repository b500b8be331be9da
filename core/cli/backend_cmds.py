"""`mmstudio backend add | list | test | remove | models | download`."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import sys
from pathlib import Path

from core.backends.base import BackendConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backend", help="model endpoints: add, list, test, remove, download")
    bsub = p.add_subparsers(dest="backend_command", metavar="ACTION")
    p.set_defaults(func=lambda args: p.print_help() or 2)

    a = bsub.add_parser("add", help="add (or --replace) a backend in the user settings")
    a.add_argument("name")
    a.add_argument("--kind", help="openai | llama_cpp (with --preset: openai)")
    a.add_argument("--preset", help="an endpoint convention: openai, azure, openrouter, ollama, "
                   "lmstudio, vllm, sglang, llama-server (see `backend presets`)")  # fmt: skip
    a.add_argument("--api-version", help="azure: the REST api-version (default: the preset's)")
    a.add_argument("--base-url", help="OpenAI-compatible base URL (default: OpenAI)")
    a.add_argument("--model", help="model name on the server")
    a.add_argument("--api-key-env", help="environment variable that holds the API key")
    a.add_argument(
        "--store-key", action="store_true", help="read a key from stdin into the OS keyring"
    )
    a.add_argument("--gguf", type=Path, help="llama_cpp: the model GGUF file")
    a.add_argument("--mmproj", type=Path, help="llama_cpp: the vision projector GGUF file")
    a.add_argument("--chat-format", help="llama_cpp: llava-1-5, qwen2.5-vl, mtmd, ...")
    a.add_argument("--n-ctx", type=int, help="llama_cpp: context size (default 4096)")
    a.add_argument("--n-gpu-layers", type=int, help="llama_cpp: layers on the GPU (-1: all)")
    a.add_argument("--threads", type=int, help="llama_cpp: CPU threads")
    a.add_argument(
        "--server",
        choices=["python", "native"],
        help="llama_cpp: python (llama_cpp.server, default) or native (llama.cpp's llama-server)",
    )
    a.add_argument("--server-path", type=Path, help="llama_cpp native: the llama-server file")
    a.add_argument(
        "--parallel", type=int, help="llama_cpp native: slots served at once (default 4)"
    )
    a.add_argument("--max-concurrency", type=int, help="requests in flight at once")
    a.add_argument("--rpm", type=int, help="requests per minute limit")
    a.add_argument("--tpm", type=int, help="tokens per minute limit")
    a.add_argument("--timeout", type=float, help="seconds per request (default 120)")
    a.add_argument("--image-max-side", type=int, help="shrink images to this longest side")
    a.add_argument("--detail", choices=["low", "high", "auto"], help="OpenAI image detail")
    a.add_argument("--batch-api", action="store_true", help="use the OpenAI Batch API for jobs")
    a.add_argument("--replace", action="store_true")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_add)

    ls = bsub.add_parser("list", help="configured backends")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    pr = bsub.add_parser("presets", help="endpoint presets for `add --preset`")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=cmd_presets)

    t = bsub.add_parser("test", help="one text and one image request")
    t.add_argument("name")
    t.add_argument("--image", type=Path, help="image to send (default: a generated one)")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_test)

    r = bsub.add_parser("remove", help="forget a backend (and its keyring entry)")
    r.add_argument("name")
    r.set_defaults(func=cmd_remove)

    m = bsub.add_parser("models", help="the catalog of recommended local models")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models)

    d = bsub.add_parser("download", help="download a catalog model and add it as a backend")
    d.add_argument("model_id")
    d.add_argument("--name", help="backend name (default: the model id)")
    d.add_argument(
        "--server",
        choices=["python", "native"],
        default="python",
        help="native: llama.cpp's llama-server with the catalog's recommended slots",
    )
    d.add_argument("--server-path", type=Path, help="the llama-server executable (else PATH)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_download)


_FIELDS = {
    "base_url": "base_url", "model": "model", "api_key_env": "api_key_env",
    "chat_format": "chat_format", "n_ctx": "n_ctx", "n_gpu_layers": "n_gpu_layers",
    "threads": "n_threads", "max_concurrency": "max_concurrency", "rpm": "rpm", "tpm": "tpm",
    "timeout": "timeout_s", "image_max_side": "image_max_side", "detail": "image_detail",
    "server": "server", "parallel": "parallel", "api_version": "api_version",
}  # fmt: skip
NATIVE_DEFAULT_SLOTS = 4


def cmd_add(args) -> int:
    from core.backends.keys import set_key
    from core.backends.registry import kind_class
    from core.backends.settings import BackendConfig, add_backend, load_backends
    from core.cli import emit_json

    fields = {
        dst: getattr(args, src) for src, dst in _FIELDS.items() if getattr(args, src) is not None
    }
    for name in ("gguf", "mmproj", "server_path"):
        if getattr(args, name) is not None:
            fields[name] = str(getattr(args, name).expanduser().resolve())
    if fields.get("server") == "native":
        # the engine keeps one request in flight per slot
        fields.setdefault("parallel", NATIVE_DEFAULT_SLOTS)
        fields.setdefault("max_concurrency", fields["parallel"])
    if args.preset:
        from core.backends.presets import apply_preset

        if args.kind not in (None, "openai"):
            raise BackendConfigError("--preset names an OpenAI-compatible endpoint: --kind openai")
        args.kind = "openai"
        fields = apply_preset(args.preset, fields)
    elif args.kind is None:
        raise BackendConfigError("give --kind openai|llama_cpp, or --preset NAME")
    fields.setdefault("max_concurrency", kind_class(args.kind).default_concurrency)
    config = BackendConfig(name=args.name, kind=args.kind, use_batch_api=args.batch_api, **fields)
    if args.preset and not config.model:
        config.model = _only_model(config)
    # All or nothing: a backend written without the key it was given is half-saved (and the
    # next add would answer "exists"), so the key is stored first and the config only after.
    config.validate()
    if config.name in load_backends() and not args.replace:
        raise BackendConfigError(f"a backend named {config.name!r} exists; use --replace")
    if args.store_key:
        key = (
            sys.stdin.readline().strip() if not sys.stdin.isatty() else getpass.getpass("API key: ")
        )
        set_key(args.name, key)
    add_backend(config, replace=args.replace)
    if args.json:
        emit_json({"added": config.to_json()})
    else:
        print(f"added backend {config.name} ({config.kind})")
    return 0


def _only_model(config) -> str:
    """A preset without --model: the one model the server lists, else a clear choice."""
    from core.backends.presets import list_models
    from core.backends.registry import kind_class

    probe_cfg = dataclasses.replace(config, model="-")
    backend = kind_class(config.kind)(probe_cfg)
    models = list_models(backend)
    if len(models) == 1:
        return models[0]
    listed = ", ".join(models[:20]) or "none"
    raise BackendConfigError(
        f"{config.base_url} serves {len(models)} models ({listed}): pick one with --model"
    )


def cmd_presets(args) -> int:
    from core.backends.presets import PRESETS
    from core.cli import emit_json

    if args.json:
        emit_json({"presets": [p.to_json() for p in PRESETS.values()]})
        return 0
    for p in PRESETS.values():
        key = "key" if p.needs_key else "no key"
        print(f"{p.name:<13} {p.base_url:<36} {key:<7} images: {p.images:<14} "
              f"{'+'.join(p.constraints) or '-'}")  # fmt: skip
    return 0


def cmd_list(args) -> int:
    from core.backends.base import BackendConfigError
    from core.backends.keys import get_key
    from core.backends.registry import capabilities_of, kind_class
    from core.backends.settings import load_backends
    from core.cli import emit_json

    rows = []
    for cfg in load_backends().values():
        entry = cfg.to_json()
        uses_key = kind_class(cfg.kind).uses_api_key
        entry["has_key"] = bool(get_key(cfg.name, cfg.api_key_env)) if uses_key else None
        try:  # what the stages will ask of it (its preset's, else its kind's)
            entry["capabilities"] = capabilities_of(cfg).to_json()
        except BackendConfigError as exc:
            entry["capabilities"], entry["error"] = None, str(exc)
        rows.append(entry)
    if args.json:
        emit_json({"backends": rows})
        return 0
    if not rows:
        print("no backends yet; add one with `mmstudio backend add NAME --kind openai|llama_cpp`")
    for r in rows:
        where = r.get("base_url") or r.get("gguf") or "OpenAI"
        print(f"{r['name']:<20} {r['kind']:<10} {r.get('model') or '':<24} {where}")
    return 0


def cmd_test(args) -> int:
    from core.backends.probe import probe
    from core.backends.registry import make_backend
    from core.cli import emit_json

    with make_backend(args.name) as backend:
        result = probe(backend, args.image)
    if args.json:
        emit_json(result)
    else:
        print(describe_probe(result))
    return 0 if result["ok"] else 1


def describe_probe(result: dict) -> str:
    lines = []
    for what in ("text", "image"):
        r = result[what]
        tries = r.get("tries") or []
        if r.get("skipped"):
            lines.append(f"{what}: skipped ({r['skipped']})")
            continue
        retried = ", ".join(
            f"{t['error_class']} after {t['latency_s']} s, waited {t['waited_s']} s"
            for t in tries if not t["ok"] and "waited_s" in t
        )  # fmt: skip
        note = f" (attempt {r['attempts']}: {retried})" if retried else ""
        if r["ok"]:
            lines.append(f"{what}: ok in {r['latency_s']} s{note}: {r['reply'][:120]!r}")
        else:
            lines.append(f"{what}: FAILED ({r['error_class']}, {r['attempts']} attempt(s)): "
                         f"{r['error']}")  # fmt: skip
    return "\n".join(lines)


def cmd_remove(args) -> int:
    from core.backends.keys import delete_key
    from core.backends.settings import remove_backend

    remove_backend(args.name)
    delete_key(args.name)
    print(f"removed backend {args.name}")
    return 0


def cmd_models(args) -> int:
    from core.backends.catalog import load_catalog
    from core.cli import emit_json

    catalog = load_catalog()
    if args.json:
        emit_json({"models": [e.to_json() for e in catalog.values()]})
        return 0
    for e in catalog.values():
        print(f"{e.id:<22} {e.kind:<4} {e.size_mb:>7.0f} MB  {e.title}")
    return 0


def cmd_download(args) -> int:
    from core.backends.catalog import backend_config_for, download, load_catalog
    from core.backends.settings import add_backend
    from core.cli import emit_json
    from core.cli.progress import Progress

    catalog = load_catalog()
    entry = catalog.get(args.model_id)
    if entry is None:
        from core.backends.catalog import CatalogError

        raise CatalogError(f"no catalog model {args.model_id!r}; see `mmstudio backend models`")
    bars: dict[str, Progress] = {}

    def progress(name, done, total):
        bar = bars.get(name) or bars.setdefault(name, Progress(name, total))
        bar(done, total)

    try:
        model, mmproj = download(entry, progress)
    finally:
        for bar in bars.values():
            bar.close()
    server_path = str(args.server_path.expanduser().resolve()) if args.server_path else None
    config = backend_config_for(entry, model, mmproj, args.name, args.server, server_path)
    add_backend(config, replace=True)
    if args.json:
        emit_json({"added": config.to_json()})
    else:
        print(f"downloaded {entry.title}; added backend {config.name}")
    return 0
