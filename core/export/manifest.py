"""The audit trail of an export: SHA256SUMS (every file, `sha256sum -c` checks it) and
manifest.json (tool and schema version, filters, options, counts, data-file hashes)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

SUMS = "SHA256SUMS"
MANIFEST = "manifest.json"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class Checksums:
    """Streams "<sha256>  <relative path>" lines; keeps details only for the data files."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files: dict[str, dict] = {}
        self.count = 0
        self._f = None

    def __enter__(self) -> Checksums:
        self._f = open(self.folder / SUMS, "w", encoding="utf-8", newline="\n")
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()

    def add(self, rel: str, digest: str) -> None:
        self._f.write(f"{digest}  {rel}\n")
        self.count += 1

    def add_file(self, rel: str) -> None:
        path = self.folder / rel
        digest = file_sha256(path)
        self.files[rel] = {"sha256": digest, "bytes": path.stat().st_size}
        self.add(rel, digest)


def write_manifest(folder: Path, manifest: dict, sums: Checksums) -> dict:
    sums_path = folder / SUMS
    files = dict(sums.files)
    files[SUMS] = {
        "sha256": file_sha256(sums_path),
        "bytes": sums_path.stat().st_size,
        "lists": sums.count,
    }
    manifest = {
        **manifest,
        "files": files,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    return manifest


def verify(folder: Path) -> list[str]:
    """Relative paths whose content no longer matches SHA256SUMS (or that are gone)."""
    bad = []
    with open(folder / SUMS, encoding="utf-8") as f:
        for line in f:
            digest, _, rel = line.rstrip("\n").partition("  ")
            path = folder / rel
            if not path.is_file() or file_sha256(path) != digest:
                bad.append(rel)
    return bad
