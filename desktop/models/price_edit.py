"""The price table as the Settings dialog edits it: the bundled table merged with the user's
copy (core.backends.pricing reads the same two files), saved back as the user's copy holding
only what differs from the bundled one, so later bundled updates still reach the user."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.backends.pricing import FILE_NAME
from core.errors import StudioError
from core.paths import resources_dir, user_home
from desktop.strings import N_, tr

FIELDS = ("input", "output", "image")
FIELD_NAMES = {"input": N_("input"), "output": N_("output"), "image": N_("image")}


class PriceEditError(StudioError):
    pass


@dataclass
class PriceRow:
    model: str
    input: float = 0.0  # USD per 1M prompt tokens
    output: float = 0.0  # USD per 1M completion tokens
    image: float = 0.0  # USD per image
    bundled: bool = False  # the bundled table has this model (it can be reset, not removed)

    def prices(self) -> tuple[float, float, float]:
        return (self.input, self.output, self.image)


def user_prices_path() -> Path:
    return user_home() / FILE_NAME


def _read(path: Path) -> tuple[dict[str, tuple[float, float, float]], float | None]:
    if not path.is_file():
        return {}, None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        models = {
            str(name): tuple(float((entry or {}).get(f, 0.0)) for f in FIELDS)
            for name, entry in (raw.get("models") or {}).items()
        }
        discount = raw.get("batch_discount")
        return models, None if discount is None else float(discount)
    except (OSError, yaml.YAMLError, AttributeError, TypeError, ValueError) as exc:
        raise PriceEditError(
            tr("cannot read the price table {path}: {error}", path=path, error=exc)
        ) from None


def bundled_prices() -> tuple[dict[str, tuple[float, float, float]], float]:
    models, discount = _read(resources_dir() / FILE_NAME)
    return models, 0.5 if discount is None else discount


def load_price_rows() -> tuple[list[PriceRow], float]:
    """(rows sorted by model, batch discount) as the app prices calls now."""
    bundled, discount = bundled_prices()
    mine, my_discount = _read(user_prices_path())
    merged = bundled | mine
    rows = [PriceRow(m, *merged[m], bundled=m in bundled) for m in sorted(merged)]
    return rows, discount if my_discount is None else my_discount


def check_rows(rows: list[PriceRow], discount: float) -> None:
    seen: set[str] = set()
    for row in rows:
        name = row.model.strip()
        if not name:
            raise PriceEditError(tr("every price needs a model name"))
        if name in seen:
            raise PriceEditError(tr("model {name!r} is listed twice", name=name))
        seen.add(name)
        for field, value in zip(FIELDS, row.prices(), strict=True):
            if not math.isfinite(value) or value < 0:
                raise PriceEditError(
                    tr(
                        "{name}: the {field} price must be a number >= 0",
                        name=name,
                        field=tr(FIELD_NAMES[field]),
                    )
                )
    if not 0 < discount <= 1:
        raise PriceEditError(tr("the batch discount is the share of the price paid: 0 < d <= 1"))


def save_price_rows(rows: list[PriceRow], discount: float) -> Path:
    """Write the user's copy (atomically): models new or priced differently from the bundled
    table, and the discount when it differs. Bundled models missing from `rows` keep their
    bundled price (the override file can add and change, not delete)."""
    check_rows(rows, discount)
    bundled, bundled_discount = bundled_prices()
    body: dict = {}
    if discount != bundled_discount:
        body["batch_discount"] = discount
    body["models"] = {
        r.model.strip(): dict(zip(FIELDS, r.prices(), strict=True))
        for r in rows
        if bundled.get(r.model.strip()) != r.prices()
    }
    path = user_prices_path()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".prices-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# Your prices: these entries override the bundled table model by model.\n")
        yaml.safe_dump(body, fh, sort_keys=False, allow_unicode=True)
    os.replace(tmp, path)
    return path
