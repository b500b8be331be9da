"""Push an HF parquet export to the Hugging Face Hub (`export --push-to-hub REPO`, `hub-push`).

The token comes from HF_TOKEN or the OS keyring (service `mmstudio`, name `huggingface-hub`)
and is handed to huggingface_hub for this call only: never written to a file, the project,
the manifest or a log (core.backends.keys redacts it from messages). Every file is uploaded
before the one commit that adds them all, file by file with progress; large files go to the
Hub's large-file storage, which keeps what arrived, so a push that stopped (network, a refused
commit) resumes without sending those files again when run once more.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import StudioError

KEYRING_NAME = "huggingface-hub"
TOKEN_ENV = "HF_TOKEN"
DEFAULT_ENDPOINT = "https://huggingface.co"


class HubError(StudioError):
    pass


def hub_token() -> str:
    from core.backends.keys import get_key

    token = get_key(KEYRING_NAME, TOKEN_ENV)
    if not token:
        raise HubError(
            "no Hugging Face token: set HF_TOKEN, or store one in the OS keyring "
            f"(service 'mmstudio', name '{KEYRING_NAME}', e.g. `keyring set mmstudio "
            f"{KEYRING_NAME}`)"
        )
    return token


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def check_repo_id(repo: str) -> str:
    parts = repo.strip().split("/")
    if len(parts) != 2 or not all(parts) or any(c in repo for c in " \\:"):
        raise HubError(f"--push-to-hub takes a dataset id like 'user/name', not {repo!r}")
    return repo.strip()


def check_online(endpoint: str, timeout_s: float = 3.0) -> None:
    """Fail at once without a network; huggingface_hub itself retries for a long time."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise HubError("offline (HF_HUB_OFFLINE is set): cannot push to the Hugging Face Hub")
    url = urlsplit(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        raise HubError(
            f"cannot reach the Hugging Face Hub at {url.hostname}:{port} "
            f"({exc.strerror or exc}); no network?"
        ) from None


def _files(folder: Path) -> list[str]:
    from core.export.manifest import MANIFEST, SUMS

    listed = []
    with open(folder / SUMS, encoding="utf-8") as f:
        for line in f:
            rel = line.rstrip("\n").partition("  ")[2]
            if rel:
                listed.append(rel)
    return [*listed, SUMS, MANIFEST]


def push_export(
    folder: Path,
    repo: str,
    *,
    private: bool = False,
    on_progress: Callable[[str], None] | None = None,
    endpoint: str | None = None,
) -> dict:
    """Upload an HF export folder as a dataset repo; {"repo", "url", "commit", "files",
    "bytes", "private"}."""
    from core.export.readers import load_manifest

    folder = Path(folder)
    repo = check_repo_id(repo)
    manifest = load_manifest(folder)
    if not manifest or manifest.get("format") != "hf":
        raise HubError(
            f"{folder} is not an HF parquet export; export with --format hf to push to the Hub"
        )
    endpoint = (endpoint or hub_endpoint()).rstrip("/")
    token = hub_token()
    check_online(endpoint)
    say = on_progress or (lambda _text: None)
    try:
        return _push(folder, repo, private, endpoint, token, say)
    except HubError:
        raise
    except Exception as exc:  # huggingface_hub and httpx raise many kinds; one message
        from core.backends.keys import redact

        raise HubError(
            f"push to {repo} failed: {redact(_describe(exc))}; the export is kept at {folder}, "
            f"run `mmstudio hub-push {folder} {repo}` to resume"
        ) from None


def _describe(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status == 401:
        return "the Hub refused the token (401); check HF_TOKEN or the keyring entry"
    if status == 403:
        return "the token may not write to this repository (403)"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _push(folder: Path, repo: str, private: bool, endpoint: str, token: str, say) -> dict:
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()  # progress goes through `say`, one line per file
    api = HfApi(endpoint=endpoint, token=token)
    say(f"hub: repository {repo}")
    # Not private: the account's default visibility applies, as on the website.
    api.create_repo(repo, repo_type="dataset", private=True if private else None, exist_ok=True)
    files = _files(folder)
    ops = []
    total = 0
    for k, rel in enumerate(files, start=1):
        path = folder / rel
        size = path.stat().st_size
        total += size
        op = CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(path))
        say(f"hub: upload {k}/{len(files)} {rel} ({size:,} bytes)")
        # One file at a time: progress per file, and what arrived stays arrived.
        api.preupload_lfs_files(repo, [op], repo_type="dataset", free_memory=False)
        ops.append(op)
    say("hub: commit")
    info = api.create_commit(
        repo,
        ops,
        commit_message="Upload dataset exported by MMInstruct Studio",
        repo_type="dataset",
    )
    say(f"hub: done {info.commit_url}")
    return {
        "repo": repo,
        "url": f"{endpoint}/datasets/{repo}",
        "commit": info.oid,
        "files": len(ops),
        "bytes": total,
        "private": private,
    }
