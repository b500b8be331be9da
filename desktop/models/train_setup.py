"""What the training panel starts from: presets, the project's exports, and the run's config.

Qt-free, so it is tested directly. The trainer itself is never imported here (it is a child
process in its own Python environment); the config file is its only interface.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.paths import resources_dir
from desktop.strings import tr

# Export formats the trainer reads (docs/trainer.md); others are listed but cannot be chosen.
TRAINABLE_FORMATS = ("llava", "sharegpt")
RUN_CONFIG = "train.yaml"  # what the panel wrote; the trainer writes its resolved config.yaml


class SetupError(Exception):
    """Bad input in the panel: a message for the user, nothing written."""


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    families: tuple[str, ...]
    models: tuple[str, ...]
    settings: dict
    note: str = ""
    sizes: dict = field(default_factory=dict)  # model -> billions of weights (params_b)
    notes: dict = field(default_factory=dict)  # language -> the note, where it has one

    def note_in(self, lang: str) -> str:
        return self.notes.get(lang) or self.note


def load_presets(path: Path | None = None) -> list[Preset]:
    path = path or resources_dir() / "train_presets.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for item in raw.get("presets", []):
        out.append(
            Preset(
                name=item["name"],
                title=item.get("title", item["name"]),
                families=tuple(item.get("families", ())),
                models=tuple(item.get("models", ())),
                settings=dict(item.get("settings", {})),
                note=" ".join(str(item.get("note", "")).split()),
                sizes={str(k): float(v) for k, v in (item.get("params_b") or {}).items()},
                notes={
                    key[len("note_") :]: " ".join(str(text).split())
                    for key, text in item.items()
                    if key.startswith("note_")
                },
            )
        )
    return out


def preset_for_model(presets: list[Preset], model: str) -> Preset | None:
    """The preset whose family matches a local model folder's config.json, if any."""
    config = Path(model).expanduser() / "config.json"
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None
    return next((p for p in presets if model_type in p.families), None)


@dataclass
class ExportInfo:
    path: Path
    format: str | None = None
    records: int | None = None
    instructions: int | None = None
    images: int | None = None
    splits: dict = field(default_factory=dict)
    problem: str | None = None  # why it cannot be trained on, if it cannot

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def trainable(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        parts = [self.format or tr("unknown format")]
        if self.records is not None:
            parts.append(tr("{n:,} records", n=self.records))
        if self.instructions is not None:
            parts.append(tr("{n:,} instructions", n=self.instructions))
        if self.images is not None:
            parts.append(tr("{n:,} images", n=self.images))
        if self.splits:
            parts.append(" / ".join(f"{k} {v}" for k, v in self.splits.items()))
        text = ", ".join(parts)
        return f"{text} — {self.problem}" if self.problem else text


def describe_export(folder: Path) -> ExportInfo:
    from core.export.errors import ExportError
    from core.export.readers import detect_format, load_manifest

    info = ExportInfo(Path(folder))
    try:
        manifest = load_manifest(info.path) or {}
        info.format = manifest.get("format") or detect_format(info.path)
    except (ExportError, OSError) as exc:
        info.problem = str(exc)
        return info
    counts = manifest.get("counts") or {}
    info.records = counts.get("records")
    info.instructions = counts.get("instructions")
    info.images = counts.get("images")
    splits = counts.get("splits") or {}
    info.splits = {k: v.get("records") for k, v in splits.items() if isinstance(v, dict)}
    if info.format not in TRAINABLE_FORMATS:
        info.problem = tr(
            "the trainer reads {formats} exports", formats=tr(" or ").join(TRAINABLE_FORMATS)
        )
    return info


def list_exports(exports_dir: Path) -> list[ExportInfo]:
    """The export folders under `exports_dir`, newest first."""
    if not exports_dir.is_dir():
        return []
    folders = [p for p in exports_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [describe_export(p) for p in folders]


def new_run_name(runs_dir: Path, label: str) -> str:
    """A fresh folder name under runs/: `<label>-<yyyymmdd-hhmmss>`, suffixed if taken."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.")[:40] or "run"
    base = f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}"
    name, n = base, 2
    while (runs_dir / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def merge_settings(base: dict, extra: dict) -> dict:
    """`extra` over `base`; nested mappings (lora, eval) merge key by key."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def parse_extra(text: str) -> dict:
    """The free-form "more settings" box: a YAML mapping, or nothing."""
    if not text.strip():
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SetupError(tr("More settings is not valid YAML: {error}", error=exc)) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SetupError(tr("More settings must be a mapping of keys to values (key: value)"))
    return value


def write_run_config(run_dir: Path, settings: dict) -> Path:
    """Create the run folder and write its config; the trainer checks every key."""
    if not settings.get("model"):
        raise SetupError(tr("Choose a base model (a hub id or a local folder)"))
    if not settings.get("data"):
        raise SetupError(tr("Choose an export folder to train on"))
    if not Path(settings["data"]).exists():
        raise SetupError(tr("The export folder does not exist: {path}", path=settings["data"]))
    if run_dir.exists() and any(run_dir.iterdir()):
        raise SetupError(tr("The run folder already holds files: {path}", path=run_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    # output_dir "." is the folder the config sits in: the run folder moves as one piece.
    config = {**settings, "output_dir": "."}
    path = run_dir / RUN_CONFIG
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def resume_config(run_dir: Path) -> Path | None:
    """The config to start again for a resume: the panel's (its output_dir "." follows a moved
    folder), else the trainer's resolved copy (a run started elsewhere)."""
    for name in (RUN_CONFIG, "config.yaml"):
        path = run_dir / name
        if path.is_file():
            return path
    return None
