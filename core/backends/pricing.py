"""Cost of a call from an editable price table (bundled, overridden by the user's copy)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.backends.base import BackendConfigError, Usage
from core.paths import resources_dir, user_home

FILE_NAME = "prices.yaml"


@dataclass(frozen=True)
class Price:
    input: float = 0.0  # USD per 1M prompt tokens
    output: float = 0.0  # USD per 1M completion tokens
    image: float = 0.0  # USD per image


@dataclass
class PriceTable:
    models: dict[str, Price] = field(default_factory=dict)
    batch_discount: float = 0.5

    def lookup(self, model: str | None) -> Price | None:
        if not model:
            return None
        if model in self.models:
            return self.models[model]
        prefixes = [m for m in self.models if model.startswith(m)]
        return self.models[max(prefixes, key=len)] if prefixes else None

    def is_priced(self, model: str | None) -> bool:
        return self.lookup(model) is not None

    def cost(
        self, model: str | None, usage: Usage, n_images: int = 0, batch: bool = False
    ) -> float:
        price = self.lookup(model)
        if price is None:
            return 0.0
        usd = (
            usage.prompt_tokens * price.input / 1e6
            + usage.completion_tokens * price.output / 1e6
            + n_images * price.image
        )
        return usd * (self.batch_discount if batch else 1.0)


def _parse(path: Path) -> tuple[dict[str, Price], float | None]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BackendConfigError(f"cannot read price table {path}: {exc}") from None
    models = {}
    for name, entry in (raw.get("models") or {}).items():
        try:
            models[str(name)] = Price(**{k: float(v) for k, v in (entry or {}).items()})
        except (TypeError, ValueError) as exc:
            raise BackendConfigError(f"{path}: bad price for {name!r}: {exc}") from None
    return models, raw.get("batch_discount")


_cache: dict[tuple, PriceTable] = {}
_lock = threading.Lock()


def price_table() -> PriceTable:
    """The merged table; re-read when either file changes (so edits apply without a restart)."""
    bundled = resources_dir() / FILE_NAME
    user = user_home() / FILE_NAME
    stamp = tuple(
        (str(p), p.stat().st_mtime_ns) if p.is_file() else (str(p), None) for p in (bundled, user)
    )
    with _lock:
        if stamp in _cache:
            return _cache[stamp]
    models, discount = _parse(bundled) if bundled.is_file() else ({}, None)
    if user.is_file():
        user_models, user_discount = _parse(user)
        models.update(user_models)
        discount = user_discount if user_discount is not None else discount
    table = PriceTable(models, 0.5 if discount is None else float(discount))
    with _lock:
        _cache.clear()
        _cache[stamp] = table
    return table
