"""InternVL fine-tuning layout: JSON Lines annotations with LLaVA-shaped records (`image`
relative to the meta's `root`, `conversations` human/gpt, `<image>\\n` opening the first
human turn) and `meta.json`, the dataset-collection file InternVL's training scripts take
(`--meta_path`): one entry per split with `root`, `annotation`, `data_augment`, `repeat_time`
and `length`.

Paths in meta.json are relative to the export folder (no absolute path of this machine is
written anywhere): run the trainer from the export folder, or prefix them.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.export.formats.base import ReadContext, split_of
from core.export.formats.llava import LlavaFormat
from core.export.jsonstream import read_json_object

META = "meta.json"
PREFIX = "mmstudio"


def meta_entries(splits: list[str], names: list[str], counts: dict) -> dict:
    return {
        f"{PREFIX}_{split}": {
            "root": "images/",
            "annotation": name,
            "data_augment": False,
            "repeat_time": 1,
            "length": counts["splits"][split]["records"],
        }
        for split, name in zip(splits, names, strict=True)
    }


class InternvlFormat(LlavaFormat):
    name = "internvl"
    title = "InternVL (JSON Lines + meta.json)"
    data_suffix = ".jsonl"
    records = "llava"

    def extra_files(self) -> tuple[str, ...]:
        return (META,)

    def write(self, job) -> list[str]:
        names = super().write(job)
        meta = meta_entries(job.splits, names, job.counts)
        (job.staging / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return [*names, META]

    def find_data_files(self, folder: Path) -> list[Path]:
        entries = _entries(folder)
        if entries:
            named = [folder / e["annotation"] for e in entries if e.get("annotation")]
            return sorted(p for p in named if p.is_file())
        return sorted(p for p in folder.glob("*.jsonl") if p.is_file())

    def read_context(
        self, data_file: Path, folder: Path, manifest: dict | None, **kw
    ) -> ReadContext:
        base = None
        if kw.get("image_folder"):
            base = Path(kw["image_folder"])
        else:
            for e in _entries(data_file.parent):
                if Path(str(e.get("annotation", ""))).name == data_file.name and e.get("root"):
                    root = Path(e["root"])
                    base = root if root.is_absolute() else data_file.parent / root
                    break
        if base is None:
            return super().read_context(data_file, folder, manifest, **kw)
        return ReadContext(
            data_file, base.resolve(), split_of(data_file), cache_dir=kw.get("cache_dir")
        )


def _entries(folder: Path) -> list[dict]:
    meta = read_json_object(folder / META) or {}
    return [e for e in meta.values() if isinstance(e, dict)]
