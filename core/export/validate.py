"""`mmstudio validate`: check any training file the way trainers will read it.

The rules are the errors people hit in practice: `<image>` tokens that do not match the images
(LLaMA-Factory's most common failure), turns that do not alternate user/assistant (LLaVA
expects strict human/gpt pairs), empty turns, images that are not there, bad JSON, and text
holding the special tokens or role markers of a chat template (core.export.safetext), counted
per template family.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.export import safetext
from core.export.conversation import IMAGE_TOKEN, Conversation, strip_image_tokens
from core.export.errors import ExportError
from core.export.formats import RecordError
from core.export.jsonstream import JsonFormatError
from core.export.manifest import file_sha256
from core.export.readers import data_files, detect_format, iter_records

MAX_SAMPLES = 50


@dataclass
class ValidationReport:
    path: str
    format: str
    files: list[str] = field(default_factory=list)
    records: int = 0
    by_code: Counter = field(default_factory=Counter)
    problems: list[dict] = field(default_factory=list)
    tokens: safetext.Tally = field(default_factory=safetext.Tally.empty)

    @property
    def errors(self) -> int:
        return sum(self.by_code.values())

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def add(
        self, file: str, index: int | None, rec_id: str | None, code: str, message: str
    ) -> None:
        self.by_code[code] += 1
        if len(self.problems) < MAX_SAMPLES:
            self.problems.append(
                {"file": file, "record": index, "id": rec_id, "code": code, "message": message}
            )

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "format": self.format,
            "files": self.files,
            "records": self.records,
            "errors": self.errors,
            "by_code": dict(sorted(self.by_code.items())),
            "problems": self.problems,
            "special_tokens": self.tokens.to_json(),
            "ok": self.ok,
        }

    def describe(self) -> str:
        head = f"{self.path} ({self.format}): {self.records} records, {self.errors} problems"
        lines = [head]
        for code, n in sorted(self.by_code.items()):
            lines.append(f"  {code}: {n}")
        for p in self.problems:
            where = f"{p['file']}" + (
                f" record {p['record'] + 1}" if p["record"] is not None else ""
            )
            who = f" (id {p['id']})" if p["id"] else ""
            lines.append(f"  - {where}{who}: [{p['code']}] {p['message']}")
        if self.errors > len(self.problems):
            lines.append(f"  ... and {self.errors - len(self.problems)} more")
        for family, found in sorted(self.tokens.by_family.items()):
            listed = ", ".join(f"{tok} x{n}" for tok, n in sorted(found.items()))
            lines.append(f"  template {family}: {listed}")
        lines.append("OK" if self.ok else "INVALID")
        return "\n".join(lines)


def check_conversation(conv: Conversation) -> list[tuple[str, str]]:
    """(code, message) for everything a trainer would trip over in one record."""
    out: list[tuple[str, str]] = []
    msgs = conv.messages
    if not msgs:
        return [("no_turns", "the record has no user/assistant turns")]
    for k, m in enumerate(msgs):
        want = "user" if k % 2 == 0 else "assistant"
        if m["role"] != want:
            out.append(
                (
                    "role_order",
                    f"turn {k + 1} is {m['role']}, expected {want} (turns must alternate, user first)",
                )
            )
            break
    if msgs[-1]["role"] != "assistant":
        out.append(("unpaired_turn", "the last turn is a user turn with no answer"))
    for k, m in enumerate(msgs):
        text = strip_image_tokens(m["content"]) if m["role"] == "user" else m["content"].strip()
        if not text:
            out.append(("empty_turn", f"turn {k + 1} ({m['role']}) is empty"))
        if m["role"] == "assistant" and IMAGE_TOKEN in m["content"]:
            out.append(
                ("image_token_in_answer", f"turn {k + 1}: an answer holds an {IMAGE_TOKEN} token")
            )
    tokens = sum(m["content"].count(IMAGE_TOKEN) for m in msgs if m["role"] == "user")
    if tokens != len(conv.images):
        out.append(
            (
                "image_token_mismatch",
                f"{tokens} {IMAGE_TOKEN} token(s) for {len(conv.images)} image(s)",
            )
        )
    for img in conv.images:
        if not img.is_file():
            out.append(("missing_image", f"image {img.name} is not there"))
    return out


def token_findings(conv: Conversation) -> list[tuple[str, str, list]]:
    """(code, message, tokens) per turn whose text holds chat-template tokens or role markers;
    the formats' own `<image>` placeholder is left to the image-token rules above."""
    out = []
    for k, m in enumerate(conv.messages):
        tokens = [t for t in safetext.find(m["content"]) if t.text != IMAGE_TOKEN]
        for kind in safetext.KINDS:
            mine = [t for t in tokens if t.kind == kind]
            if mine:
                msg = f"turn {k + 1} ({m['role']}) holds {safetext.describe(mine)}"
                out.append((kind, msg, mine))
    return out


def validate_path(
    path: Path,
    fmt: str | None = None,
    *,
    image_folder: Path | None = None,
    cache_dir: Path | None = None,
) -> ValidationReport:
    if cache_dir is None:
        # Embedded (HF) images are written out to be checked; not into the user's cache.
        with tempfile.TemporaryDirectory(prefix="mmstudio-validate-") as tmp:
            return validate_path(path, fmt, image_folder=image_folder, cache_dir=Path(tmp))
    path = Path(path)
    try:
        fmt = fmt or detect_format(path)
        _, files, folder, manifest = data_files(path, fmt)
    except JsonFormatError as exc:
        report = ValidationReport(str(path), fmt or "unknown", [path.name])
        report.add(path.name, None, None, "bad_json", str(exc))
        return report
    except ExportError as exc:
        if not path.exists():
            raise
        # A file that is there but in no format we can tell: a finding, not a crash.
        report = ValidationReport(str(path), fmt or "unknown", [path.name])
        report.add(path.name, None, None, "unknown_format", str(exc))
        return report
    report = ValidationReport(str(path), fmt, [f.name for f in files])
    if path.is_dir() and manifest and manifest.get("format") == fmt:
        _check_manifest(report, folder, manifest)
    current = None
    try:
        for file, index, item in iter_records(
            path, fmt, image_folder=image_folder, cache_dir=cache_dir
        ):
            current = file
            report.records += 1
            if isinstance(item, RecordError):
                report.add(file.name, index, None, item.code, str(item))
                continue
            for code, message in check_conversation(item):
                report.add(file.name, index, item.id, code, message)
            for code, message, tokens in token_findings(item):
                report.tokens.add(tokens)
                report.add(file.name, index, item.id, code, message)
    except JsonFormatError as exc:
        report.add(Path(exc.path).name, None, None, "bad_json", str(exc))
    except ExportError as exc:
        report.add(current.name if current else path.name, None, None, "bad_file", str(exc))
    return report


def _check_manifest(report: ValidationReport, folder: Path, manifest: dict) -> None:
    for rel, entry in (manifest.get("files") or {}).items():
        p = folder / rel
        if not p.is_file():
            report.add(rel, None, None, "missing_file", "listed in manifest.json but not there")
        elif isinstance(entry, dict) and entry.get("sha256") and file_sha256(p) != entry["sha256"]:
            report.add(rel, None, None, "checksum_mismatch", "content differs from manifest.json")
