"""The CLIP model catalog (the `clip` section of resources/models.yaml) and turning a model
name into a folder.

`--model` takes a catalog name (weights fetched through huggingface_hub and cached there) or a
local folder with a saved model. A folder's key in the database is its absolute path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from core.collect.errors import CollectError
from core.paths import resources_dir

CATALOG_FILE = "models.yaml"  # shared with the GGUF catalog; ours is its `clip` section
FALLBACK_RELEVANCE = 0.21
FALLBACK_DUPLICATE = 0.95
# What a model folder needs; skips the duplicate PyTorch / TF / Flax weight files.
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model"]
FAMILY_BY_TYPE = {"clip": "clip", "chinese_clip": "clip", "siglip": "siglip", "siglip2": "siglip"}


@dataclass(frozen=True)
class ClipSpec:
    name: str
    repo: str | None = None
    revision: str | None = None
    family: str = "clip"
    dim: int | None = None
    relevance_threshold: float = FALLBACK_RELEVANCE
    duplicate_threshold: float = FALLBACK_DUPLICATE
    license: str | None = None
    size_mb: int | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ResolvedModel:
    key: str  # the name stored in clip_models
    folder: Path
    spec: ClipSpec


@cache
def catalog() -> tuple[str, dict[str, ClipSpec]]:
    """(default name, name -> spec) from the bundled catalog."""
    path = resources_dir() / CATALOG_FILE
    try:
        data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {})["clip"]
        specs = {m["name"]: ClipSpec(**m) for m in data["models"]}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise CollectError(
            f"cannot read the CLIP catalog (section `clip` of {path}): {exc}"
        ) from None
    return data.get("default") or next(iter(specs)), specs


def spec_for(key: str) -> ClipSpec:
    """The catalog entry of `key`, or defaults for a local folder."""
    specs = catalog()[1]
    if key in specs:
        return specs[key]
    folder = Path(key)
    return ClipSpec(name=key, family=_folder_family(folder) if folder.is_dir() else "clip")


def _folder_family(folder: Path) -> str:
    try:
        model_type = json.loads((folder / "config.json").read_text(encoding="utf-8"))["model_type"]
    except (OSError, ValueError, KeyError):
        raise CollectError(f"{folder} holds no model (config.json missing or unreadable)") from None
    if model_type not in FAMILY_BY_TYPE:
        raise CollectError(
            f"{folder}: model type {model_type!r} is not a CLIP-style model "
            f"({', '.join(sorted(FAMILY_BY_TYPE))})"
        )
    return FAMILY_BY_TYPE[model_type]


def resolve(name: str | None = None, progress=None) -> ResolvedModel:
    """The folder of a catalog name (downloaded on first use; `progress(file, done, total)`
    hears about it) or of a local model folder."""
    default, specs = catalog()
    name = name or default
    path = Path(name).expanduser()
    if path.is_dir():
        folder = path.resolve()
        return ResolvedModel(
            str(folder), folder, ClipSpec(str(folder), family=_folder_family(folder))
        )
    spec = specs.get(name)
    if spec is None:
        raise CollectError(
            f"unknown CLIP model {name!r}: use one of {', '.join(specs)} or a local model folder"
        )
    return ResolvedModel(name, _download(spec, progress), spec)


def is_cached(name: str) -> bool:
    """Whether a catalog model's files are already on this machine (no network asked)."""
    spec = catalog()[1].get(name)
    return spec is not None and _cached(spec) is not None


def _cached(spec: ClipSpec) -> Path | None:
    from huggingface_hub import snapshot_download

    try:
        return Path(
            snapshot_download(
                spec.repo, revision=spec.revision, allow_patterns=ALLOW_PATTERNS,
                local_files_only=True,
            )
        )  # fmt: skip
    except Exception:  # not cached (the hub raises several types for that)
        return None


def _download(spec: ClipSpec, progress=None) -> Path:
    from huggingface_hub import snapshot_download

    from core.backends.catalog import CatalogError, _check_reachable, _is_offline, _progress_class

    cached = _cached(spec)
    if cached is not None:
        return cached
    # Without a network the hub retries for tens of seconds: say so at once instead.
    if _is_offline():
        raise CollectError(
            f"offline (HF_HUB_OFFLINE is set): cannot download CLIP model {spec.name!r} "
            f"({spec.repo}, about {spec.size_mb or '?'} MB). Download it on a connected "
            "machine, or choose a local model folder."
        )
    try:
        _check_reachable(None)
    except CatalogError as exc:
        raise CollectError(
            f"cannot download CLIP model {spec.name!r}: {str(exc).split('; ')[0]}. "
            "Connect once to download it, or choose a local model folder."
        ) from None
    try:
        return Path(
            snapshot_download(
                spec.repo, revision=spec.revision, allow_patterns=ALLOW_PATTERNS,
                tqdm_class=_progress_class(progress, spec.name) if progress else None,
            )
        )  # fmt: skip
    except Exception as exc:  # offline, missing repo, network: the hub has many error types
        raise CollectError(
            f"cannot get model {spec.name!r} ({spec.repo}, about {spec.size_mb or '?'} MB): "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. "
            "Connect once to download it, or pass --model with a local folder."
        ) from None
