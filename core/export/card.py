"""The dataset card (README.md) of a Hugging Face export: YAML header the Hub reads, counts
per domain and type, and a summary of the image licenses."""

from __future__ import annotations

import re

from core import __version__
from core.vocab import ITYPES

# License ids the Hub knows, keyed by a loose spelling (lower case, spaces and underscores
# as hyphens); anything else is "other" and the table below names it.
HUB_LICENSES = {
    k: v
    for v in (
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nc-4.0",
        "cc-by-nc-sa-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-nd-4.0",
        "mit",
        "apache-2.0",
        "openrail",
        "odc-by",
        "pddl",
        "unlicense",
    )
    for k in (v, v.replace("-", ""))
} | {"cc0": "cc0-1.0", "public-domain": "pddl", "cc-by": "cc-by-4.0"}
SPLIT_NAMES = {"train": "train", "val": "validation"}


def hub_license(licenses: dict[str, int]) -> str:
    known = {
        HUB_LICENSES.get(name.lower().replace(" ", "-").replace("_", "-")) for name in licenses
    }
    return known.pop() if len(known) == 1 and None not in known else "other"


LICENSE_FILE = "LICENSE.md"


def license_name(licenses: dict[str, int]) -> str:
    """The Hub's `license_name` for license `other`: the one license's name as an id, or
    `mixed-image-licenses`."""
    if len(licenses) == 1:
        slug = re.sub(r"[^a-z0-9]+", "-", next(iter(licenses)).lower()).strip("-")
        return slug or "unknown"
    return "mixed-image-licenses"


def license_file(job) -> str:
    """LICENSE.md of an export whose license is `other` (the card's `license_link`)."""
    c = job.counts
    lines = ["# Licenses", "", "The images of this dataset keep their own licenses:", ""]
    lines += ["| License | Images |", "|---|---:|"]
    lines += [f"| {_cell(name)} | {n} |" for name, n in c["licenses"].items()]
    lines += [
        "",
        "Each record names its image's license in `meta.license`. The question-answer text was "
        "written with MMInstruct Studio; check the terms of the models that generated it.",
        "",
    ]
    return "\n".join(lines)


def size_category(n: int) -> str:
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ]
    for limit, name in bounds:
        if n < limit:
            return name
    return "10M<n<100M"


def _cell(text: str) -> str:
    return (text or "(none)").replace("|", "\\|").replace("\n", " ")


def dataset_card(job) -> str:
    c = job.counts
    langs = sorted(c["by_lang"])
    lic = hub_license(c["licenses"])
    lines = ["---", f"license: {lic}"]
    if lic == "other":
        lines += [f"license_name: {license_name(c['licenses'])}", f"license_link: {LICENSE_FILE}"]
    lines += ["language:", *[f"- {lang}" for lang in langs]]
    lines += ["task_categories:", "- visual-question-answering", "- image-text-to-text"]
    lines += ["tags:", "- mminstruct-studio", "- instruction-tuning"]
    lines += ["size_categories:", f"- {size_category(c['records'])}"]
    lines += ["configs:", "- config_name: default", "  data_files:"]
    for split in job.splits:
        name = SPLIT_NAMES[split]
        lines += [f"  - split: {name}", f"    path: data/{name}-*.parquet"]
    lines += ["---", "", "# Multimodal instruction data", ""]
    lines += [
        f"Exported by MMInstruct Studio {__version__}: {c['records']} records holding "
        f"{c['instructions']} question-answer pairs over {c['images']} images.",
        "",
        "| Split | Records | QA pairs | Images |",
        "|---|---:|---:|---:|",
    ]
    for split in job.splits:
        s = c["splits"][split]
        lines.append(
            f"| {SPLIT_NAMES[split]} | {s['records']} | {s['instructions']} | {s['images']} |"
        )
    lines += ["", "## Counts per domain and type", ""]
    lines += [
        "| Domain | Images | " + " | ".join(ITYPES) + " | Total |",
        "|---" + "|---:" * (len(ITYPES) + 2) + "|",
    ]
    for dom, entry in c["by_domain"].items():
        types = " | ".join(str(entry["by_type"].get(t, 0)) for t in ITYPES)
        lines.append(f"| {_cell(dom)} | {entry['images']} | {types} | {entry['instructions']} |")
    lines += [
        "",
        "Languages: " + ", ".join(f"{lang} {c['by_lang'][lang]}" for lang in langs) + ".",
        "",
    ]
    lines += ["## Image licenses", "", "| License | Images |", "|---|---:|"]
    lines += [f"| {_cell(name)} | {n} |" for name, n in c["licenses"].items()]
    lines += [
        "",
        "Each record carries its image's license in `meta.license`; images keep the terms of "
        "their own license whatever the license field above says.",
        "",
        "## Format",
        "",
        "- `id`: record id (first 16 hex digits of the image's sha256, then the record's number).",
        "- `images`: the image, embedded (`datasets.Image`).",
        "- `messages`: alternating `user` / `assistant` turns; `<image>` marks where the image goes.",
        "- `meta`: `domain`, `license`, and per turn the instruction type, language and the "
        "answer-format instruction appended to the question.",
        "",
    ]
    return "\n".join(lines)
