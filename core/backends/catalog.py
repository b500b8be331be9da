"""The model catalog (resources/models.yaml) and its downloader (huggingface_hub).

Downloads resume where they stopped (huggingface_hub keeps partial files), report progress
through a callback, and end with a SHA-256 check against the catalog or the hub's own
checksum. Offline, `download` fails at once with a message that says what to do instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.backends.settings import BackendConfig
from core.errors import StudioError
from core.paths import resources_dir, user_home

Progress = Callable[[str, int, int | None], None]  # (file name, bytes done, bytes total)
_SHA = re.compile(r"^[0-9a-f]{64}$")
MAX_SLOTS = 8


class CatalogError(StudioError):
    pass


@dataclass(frozen=True)
class ModelFile:
    repo: str
    file: str
    size_mb: float | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    title: str
    kind: str  # vlm | llm
    model: ModelFile
    mmproj: ModelFile | None = None
    chat_format: str | None = None
    n_ctx: int = 4096
    kv_tokens: int | None = None  # KV-cache tokens over all slots; see recommended_slots
    license: str | None = None
    notes: str | None = None

    def recommended_slots(self, n_ctx: int | None = None) -> int:
        """Parallel slots for llama-server at `n_ctx` tokens per request: as many as the
        model's KV budget holds, 1..MAX_SLOTS (beyond 8, batching gains little on a CPU)."""
        per_request = n_ctx or self.n_ctx
        budget = self.kv_tokens or per_request
        return max(1, min(MAX_SLOTS, budget // max(1, per_request)))

    @property
    def size_mb(self) -> float:
        return sum(f.size_mb or 0 for f in (self.model, self.mmproj) if f)

    def to_json(self) -> dict:
        return {
            "id": self.id, "title": self.title, "kind": self.kind, "license": self.license,
            "chat_format": self.chat_format, "n_ctx": self.n_ctx, "size_mb": self.size_mb,
            "kv_tokens": self.kv_tokens, "recommended_slots": self.recommended_slots(),
            "model": self.model.__dict__, "mmproj": self.mmproj.__dict__ if self.mmproj else None,
            "notes": self.notes,
        }  # fmt: skip


def load_catalog(path: Path | None = None) -> dict[str, CatalogEntry]:
    path = path or resources_dir() / "models.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read the model catalog {path}: {exc}") from None
    out = {}
    for entry in raw.get("models") or []:
        try:
            entry = dict(entry)
            entry["model"] = ModelFile(**entry["model"])
            if entry.get("mmproj"):
                entry["mmproj"] = ModelFile(**entry["mmproj"])
            item = CatalogEntry(**entry)
        except (TypeError, KeyError) as exc:
            raise CatalogError(f"{path}: bad entry {entry.get('id', '?')}: {exc}") from None
        out[item.id] = item
    return out


def models_dir() -> Path:
    return user_home() / "models"


def _is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _progress_class(callback: Progress | None, name: str):
    from tqdm.auto import tqdm

    class _Reporter(tqdm):
        # A disabled tqdm stops counting, so the bytes are counted here for the callback.
        def __init__(self, *a, **kw):
            kw["disable"] = callback is not None or kw.get("disable", False)
            super().__init__(*a, **kw)
            self._done = int(kw.get("initial") or 0)

        def update(self, n=1):
            self._done += int(n or 0)
            if callback is not None:
                callback(name, self._done, int(self.total) if self.total else None)
            return super().update(n)

    return _Reporter


def _check_reachable(endpoint: str | None, timeout_s: float = 3.0) -> None:
    """Fail at once without a network: huggingface_hub itself retries for tens of seconds."""
    from urllib.parse import urlsplit

    from huggingface_hub import constants

    url = urlsplit(endpoint or constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        raise CatalogError(
            f"cannot reach the model hub at {url.hostname}:{port} ({exc.strerror or exc}); "
            "no network? Use local files with `mmstudio backend add --kind llama_cpp --gguf FILE`"
        ) from None


def download_file(
    f: ModelFile, dest: Path, progress: Progress | None = None, endpoint: str | None = None
) -> Path:
    """One file into `dest`, resumable, checked. Returns its path."""
    if _is_offline():
        raise CatalogError(
            f"offline (HF_HUB_OFFLINE is set): cannot download {f.repo}/{f.file}. Download it "
            "on a connected machine and add it with `mmstudio backend add --kind llama_cpp "
            "--gguf FILE [--mmproj FILE]`"
        )
    _check_reachable(endpoint)
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    dest.mkdir(parents=True, exist_ok=True)
    try:
        path = Path(
            hf_hub_download(
                f.repo, f.file, local_dir=dest, etag_timeout=10, endpoint=endpoint,
                tqdm_class=_progress_class(progress, f.file),
            )
        )  # fmt: skip
        expected = f.sha256
        if expected is None:
            meta = get_hf_file_metadata(hf_hub_url(f.repo, f.file, endpoint=endpoint), timeout=10)
            etag = (meta.etag or "").strip('"').lower()
            expected = etag if _SHA.match(etag) else None
    except LocalEntryNotFoundError:
        raise CatalogError(
            f"cannot reach the model hub to fetch {f.repo}/{f.file} (no network?). "
            "Use local files with `mmstudio backend add --kind llama_cpp --gguf FILE`"
        ) from None
    except (HfHubHTTPError, OSError) as exc:
        raise CatalogError(f"download of {f.repo}/{f.file} failed: {exc}") from None
    if expected and sha256_of(path) != expected:
        path.rename(path.with_suffix(path.suffix + ".corrupt"))
        raise CatalogError(f"{f.file}: checksum mismatch; the file was set aside, try again")
    return path


def download(
    entry: CatalogEntry | str, progress: Progress | None = None, endpoint: str | None = None
) -> tuple[Path, Path | None]:
    """Model (and mmproj) of a catalog entry into the user's models folder."""
    if isinstance(entry, str):
        catalog = load_catalog()
        if entry not in catalog:
            raise CatalogError(f"no catalog model {entry!r} (known: {', '.join(catalog)})")
        entry = catalog[entry]
    dest = models_dir() / entry.id
    model = download_file(entry.model, dest, progress, endpoint)
    mmproj = download_file(entry.mmproj, dest, progress, endpoint) if entry.mmproj else None
    return model, mmproj


def backend_config_for(
    entry: CatalogEntry,
    model: Path,
    mmproj: Path | None,
    name: str | None = None,
    server: str = "python",
    server_path: str | None = None,
) -> BackendConfig:
    """The backend for a downloaded entry. With the native llama-server it gets the
    recommended slots and the engine keeps that many requests in flight."""
    native = server == "native"
    slots = entry.recommended_slots() if native else 1  # llama_cpp.server: one at a time
    return BackendConfig(
        name=name or entry.id,
        kind="llama_cpp",
        gguf=str(model),
        mmproj=str(mmproj) if mmproj else None,
        chat_format=entry.chat_format if mmproj and not native else None,
        n_ctx=entry.n_ctx,
        server=server,
        server_path=server_path,
        parallel=slots,
        max_concurrency=slots,
    )
