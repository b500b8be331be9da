"""Read the MMInstruct seed format (all_seed/NNNNN_<domain>.json) and its end_prompt.json.

A seed file maps `judge` / `choice` / `sentence` to `{"Chinese": [...], "English": [...]}`.
`judge` seeds become judgement seeds, `choice` multiple_choice, and `sentence` seeds serve BOTH
short_vqa and long_vqa (the published engine draws open questions of either length from that
one list), so each sentence seed is stored once per type. Empty files (four are published so)
count as empty; strings are stripped; duplicates, inside the folder or against the project,
are skipped and counted. Unknown keys are reported and ignored. Every file is parsed before
anything is written: one bad file stops the import with its name and nothing is changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.domains.model import DomainError, SeedFormatError, check_name, slug
from core.domains.taxonomy import ensure_domain
from core.store import domains as store
from core.store.db import Database

SEED_KEYS = {
    "judge": ("judgement",),
    "choice": ("multiple_choice",),
    "sentence": ("short_vqa", "long_vqa"),
}
LANG_KEYS = {"English": "en", "Chinese": "zh"}
END_PROMPT_KEYS = {
    "judge": "judgement",
    "select": "multiple_choice",
    "shortsentence": "short_vqa",
    "longsentence": "long_vqa",
}
_FILE_NAME = re.compile(r"^(?:(\d+)_)?(.+)$")


@dataclass
class SeedFile:
    path: Path
    domain: str
    seeds: list[tuple[str, str, str]] = field(default_factory=list)  # (itype, lang, text)
    empty: bool = False
    ignored: list[str] = field(default_factory=list)


@dataclass
class SeedImportReport:
    folder: str
    files: int = 0
    empty_files: list[str] = field(default_factory=list)
    domains_created: list[str] = field(default_factory=list)
    seeds_added: int = 0
    duplicates_skipped: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    ignored_keys: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_json(self) -> dict:
        return {
            "folder": self.folder,
            "files": self.files,
            "empty_files": list(self.empty_files),
            "domains_created": list(self.domains_created),
            "seeds_added": self.seeds_added,
            "duplicates_skipped": self.duplicates_skipped,
            "by_type": dict(self.by_type),
            "ignored_keys": list(self.ignored_keys),
            "dry_run": self.dry_run,
        }

    def describe(self) -> str:
        verb = "would add" if self.dry_run else "added"
        lines = [
            f"{self.files} seed files: {verb} {self.seeds_added} seeds, "
            f"skipped {self.duplicates_skipped} duplicates, {len(self.empty_files)} empty files"
        ]
        if self.domains_created:
            lines.append(f"new domains: {', '.join(self.domains_created)}")
        if self.ignored_keys:
            lines.append(f"ignored keys: {', '.join(self.ignored_keys)}")
        return "\n".join(lines)


def domain_from_filename(path: Path) -> str:
    """'00012_structuralized_imagetext_understanding.json' -> 'structuralized_imagetext_understanding'."""
    m = _FILE_NAME.match(path.stem)
    name = slug(m.group(2) if m else path.stem)
    try:
        return check_name(name)
    except DomainError:
        raise SeedFormatError(f"{path}: cannot derive a domain name from the file name") from None


def _read_json(path: Path):
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SeedFormatError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise SeedFormatError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedFormatError(
            f"{path.name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise SeedFormatError(f"{path.name}: the JSON is nested too deeply") from None


def _string_list(value, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SeedFormatError(f"{where} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def parse_seed_file(path: Path) -> SeedFile:
    path = Path(path)
    parsed = SeedFile(path=path, domain=domain_from_filename(path))
    doc = _read_json(path)
    if doc is None:
        parsed.empty = True
        return parsed
    if not isinstance(doc, dict):
        raise SeedFormatError(f"{path.name}: expected a JSON object with judge/choice/sentence")
    for key, value in doc.items():
        if key not in SEED_KEYS:
            parsed.ignored.append(f"{path.name}: {key}")
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            raise SeedFormatError(f"{path.name}: {key} must map Chinese/English to lists")
        for lang_key, texts in value.items():
            lang = LANG_KEYS.get(lang_key)
            if lang is None:
                parsed.ignored.append(f"{path.name}: {key}.{lang_key}")
                continue
            for text in _string_list(texts, f"{path.name}: {key}.{lang_key}"):
                parsed.seeds.extend((itype, lang, text) for itype in SEED_KEYS[key])
    return parsed


def _seed_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise SeedFormatError(f"{folder}: no such folder")
    files = [p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.is_file()]
    if not files:
        raise SeedFormatError(f"{folder}: no .json seed files found")

    def order(p: Path):
        m = _FILE_NAME.match(p.stem)
        number = int(m.group(1)) if m and m.group(1) else 1 << 30
        return (number, p.name)

    return sorted(files, key=order)


def import_mminstruct_seeds(
    db: Database, folder: Path | str, *, dry_run: bool = False
) -> SeedImportReport:
    """Import a folder (or one file) of MMInstruct seed JSON into the project."""
    folder = Path(folder).expanduser()
    parsed = [parse_seed_file(p) for p in _seed_files(folder)]
    report = SeedImportReport(folder=str(folder), files=len(parsed), dry_run=dry_run)
    with db.tx():
        have = store.seed_keys(db)
        existing_domains = set(store.domain_names(db))
        rows = []
        for sf in parsed:
            report.ignored_keys.extend(sf.ignored)
            if sf.empty:
                report.empty_files.append(sf.path.name)
            if sf.domain not in existing_domains:
                existing_domains.add(sf.domain)
                report.domains_created.append(sf.domain)
            for itype, lang, text in sf.seeds:
                key = (sf.domain, itype, lang, text)
                if key in have:
                    report.duplicates_skipped += 1
                    continue
                have.add(key)
                rows.append((*key, f"mminstruct:{sf.path.name}"))
                report.by_type[itype] = report.by_type.get(itype, 0) + 1
        report.seeds_added = len(rows)
        if not dry_run:
            for name in report.domains_created:
                ensure_domain(db, name)
            store.insert_seeds(db, rows)
    return report


def end_prompts_to_variants(doc: dict, origin: str) -> dict[str, dict[str, list[str]]]:
    """end_prompt.json ({longsentence|shortsentence|judge|select: {Chinese|English: [...]}})
    as {itype: {lang: [...]}}; the leading blanks the published English strings carry go."""
    out: dict[str, dict[str, list[str]]] = {}
    for key, value in doc.items():
        itype = END_PROMPT_KEYS.get(key)
        if itype is None or value is None:
            continue
        if not isinstance(value, dict):
            raise SeedFormatError(f"{origin}: {key} must map Chinese/English to lists")
        for lang_key, texts in value.items():
            lang = LANG_KEYS.get(lang_key)
            if lang is None:
                continue
            variants = _string_list(texts, f"{origin}: {key}.{lang_key}")
            if variants:
                out.setdefault(itype, {})[lang] = variants
    if not out:
        raise SeedFormatError(f"{origin}: no answer-format variants found")
    return out
