"""Per-user backend settings: `backends.yaml` in the user folder (MMSTUDIO_HOME overrides it).

The file holds endpoints, models and limits, never a key: keys live in the OS keyring or an
environment variable named here (`api_key_env`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.backends.base import BackendConfigError
from core.paths import user_home

FILE_NAME = "backends.yaml"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


@dataclass
class BackendConfig:
    name: str
    kind: str  # a key of core.backends.registry.KINDS
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None  # environment variable holding the key; else the OS keyring
    preset: str | None = None  # core.backends.presets: the endpoint convention it came from
    api_version: str | None = None  # Azure OpenAI's REST api-version
    # managed local server (llama_cpp)
    gguf: str | None = None
    mmproj: str | None = None
    chat_format: str | None = None
    n_ctx: int = 4096
    n_gpu_layers: int = 0
    n_threads: int | None = None
    server: str = "python"  # python: llama_cpp.server; native: llama.cpp's llama-server
    server_path: str | None = None  # native: the llama-server executable (else PATH)
    parallel: int = 1  # native: slots served at once (each gets n_ctx)
    # limits and request shaping
    max_concurrency: int = 8
    rpm: int | None = None
    tpm: int | None = None
    timeout_s: float = 120.0
    image_max_side: int = 1024
    image_detail: str | None = None  # low | high | auto (OpenAI); None leaves it out
    use_batch_api: bool = False
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        return {k: v for k, v in out.items() if v not in (None, {}, [])}

    @classmethod
    def from_json(cls, obj: dict) -> BackendConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(obj) - known
        if unknown:
            raise BackendConfigError(
                f"backend {obj.get('name', '?')!r}: unknown settings {', '.join(sorted(unknown))}"
            )
        if "name" not in obj or "kind" not in obj:
            raise BackendConfigError("a backend needs a name and a kind")
        return cls(**obj)

    def validate(self) -> None:
        from core.backends.registry import kind_class

        if not _NAME.match(self.name):
            raise BackendConfigError(
                f"backend name {self.name!r}: use letters, digits, '.', '_' or '-' (max 64)"
            )
        if self.max_concurrency < 1:
            raise BackendConfigError("max_concurrency must be at least 1")
        if self.image_detail not in (None, "low", "high", "auto"):
            raise BackendConfigError("image detail must be low, high or auto")
        kind_class(self.kind).validate_config(self)


def settings_path() -> Path:
    return user_home() / FILE_NAME


def load_backends() -> dict[str, BackendConfig]:
    path = settings_path()
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BackendConfigError(f"{path} is not valid YAML: {exc}") from None
    entries = raw.get("backends") or []
    if not isinstance(entries, list):
        raise BackendConfigError(f"{path}: 'backends' must be a list")
    out = {}
    for entry in entries:
        cfg = BackendConfig.from_json(entry)
        out[cfg.name] = cfg
    return out


def save_backends(configs: dict[str, BackendConfig]) -> None:
    """Write atomically, so a crash mid-write never leaves a half file."""
    path = settings_path()
    body = {"backends": [c.to_json() for c in configs.values()]}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".backends-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(body, fh, sort_keys=False, allow_unicode=True)
    os.replace(tmp, path)


def get_backend_config(name: str) -> BackendConfig:
    configs = load_backends()
    if name not in configs:
        known = ", ".join(sorted(configs)) or "none yet"
        raise BackendConfigError(
            f"no backend named {name!r} (known: {known}); add one with `mmstudio backend add`"
        )
    return configs[name]


def add_backend(config: BackendConfig, replace: bool = False) -> None:
    config.validate()
    configs = load_backends()
    if config.name in configs and not replace:
        raise BackendConfigError(f"a backend named {config.name!r} exists; use --replace")
    configs[config.name] = config
    save_backends(configs)


def remove_backend(name: str) -> None:
    configs = load_backends()
    if name not in configs:
        raise BackendConfigError(f"no backend named {name!r}")
    del configs[name]
    save_backends(configs)
