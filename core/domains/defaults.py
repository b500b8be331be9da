"""The bundled default taxonomy (resources/domains.yaml) and seed templates (resources/seeds/)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from core.domains.model import (
    ITYPES,
    LANGS,
    DomainError,
    DomainSpec,
    SeedFormatError,
    check_name,
    clean_text,
)
from core.paths import resources_dir
from core.store import domains as store
from core.store.db import Database

BUILTIN_SOURCE = "builtin"


def _read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SeedFormatError(f"{path}: cannot read: {exc}") from None


def default_domains(path: Path | None = None) -> list[DomainSpec]:
    """The default domains, in order. Validated: unique snake_case names, a title each."""
    return list(_load_domains(Path(path or resources_dir() / "domains.yaml")))


@lru_cache(maxsize=8)
def _load_domains(path: Path) -> tuple[DomainSpec, ...]:
    doc = _read_yaml(path)
    entries = doc.get("domains") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SeedFormatError(f"{path}: expected a non-empty 'domains' list")
    specs, seen = [], set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "name" not in entry:
            raise SeedFormatError(f"{path}: domain #{index} has no name")
        try:
            name = check_name(entry["name"])
            title = clean_text(entry.get("title") or name, f"title of {name}")
        except DomainError as exc:
            raise SeedFormatError(f"{path}: {exc}") from None
        if name in seen:
            raise SeedFormatError(f"{path}: domain {name!r} is listed twice")
        seen.add(name)
        keywords = entry.get("keywords") or []
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise SeedFormatError(f"{path}: keywords of {name} must be a list of strings")
        specs.append(
            DomainSpec(
                name=name,
                title=title,
                description=" ".join(str(entry.get("description") or "").split()),
                keywords=tuple(k.strip() for k in keywords if k.strip()),
                position=int(entry.get("position") or index),
            )
        )
    return tuple(specs)


def default_seeds(folder: Path | None = None) -> list[tuple[str, str, str, str]]:
    """Every bundled seed as (domain, itype, lang, text), file by file in name order."""
    return list(_load_seeds(Path(folder or resources_dir() / "seeds")))


@lru_cache(maxsize=8)
def _load_seeds(folder: Path) -> tuple[tuple[str, str, str, str], ...]:
    if not folder.is_dir():
        raise SeedFormatError(f"{folder}: seed folder not found")
    out: list[tuple[str, str, str, str]] = []
    for path in sorted(folder.glob("*.yaml")):
        doc = _read_yaml(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("domain"), str):
            raise SeedFormatError(f"{path}: expected a mapping with a 'domain' name")
        domain = doc["domain"]
        unknown = set(doc) - {"domain", *ITYPES}
        if unknown:
            raise SeedFormatError(f"{path}: unknown keys {sorted(unknown)}")
        for itype in ITYPES:
            by_lang = doc.get(itype) or {}
            if not isinstance(by_lang, dict) or set(by_lang) - set(LANGS):
                raise SeedFormatError(f"{path}: {itype} must map {'/'.join(LANGS)} to lists")
            for lang in LANGS:
                texts = by_lang.get(lang) or []
                if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                    raise SeedFormatError(f"{path}: {itype}.{lang} must be a list of strings")
                out.extend((domain, itype, lang, t.strip()) for t in texts if t.strip())
    return tuple(out)


def install_defaults(db: Database, resources: Path | None = None) -> dict:
    """Add the default domains and built-in seeds that the project lacks.

    Idempotent: existing domains keep their edits, and a seed already present (same domain,
    type, language and text) is not added again. A default domain the user deleted comes back
    if this is called again, which is what `mmstudio init` and the demo set-up want.
    """
    base = Path(resources) if resources else resources_dir()
    specs = default_domains(base / "domains.yaml")
    seeds = default_seeds(base / "seeds")
    names = {s.name for s in specs}
    strays = sorted({d for d, *_ in seeds} - names)
    if strays:
        raise SeedFormatError(f"{base / 'seeds'}: seeds for domains not in domains.yaml: {strays}")
    with db.tx():
        present = set(store.domain_names(db))
        added = [s for s in specs if s.name not in present]
        for spec in added:
            store.insert_domain(
                db, spec.name, spec.title, spec.description, spec.keywords, spec.position
            )
        have = store.seed_keys(db)
        new_seeds = []
        for key in seeds:
            if key not in have:
                have.add(key)
                new_seeds.append((*key, BUILTIN_SOURCE))
        store.insert_seeds(db, new_seeds)
    return {"domains_added": len(added), "seeds_added": len(new_seeds)}
