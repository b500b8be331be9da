"""Export I/O plumbing: images hard-linked by default (a copy where linking fails), project
media not re-read for their checksums, and DuckDB's settings put back after an export."""

from __future__ import annotations

import errno
import os

import pytest

from core.export import images as placing
from core.export.manifest import verify
from core.export.writer import ExportOptions, export_project


def _settings(db):
    return db.fetchone(
        "SELECT current_setting('memory_limit'), current_setting('threads'), "
        "current_setting('preserve_insertion_order')"
    )


def test_images_are_hard_links_by_default_and_not_read_again(proj, tmp_path, monkeypatch):
    read = []
    monkeypatch.setattr(placing, "_hash", lambda path: read.append(path) or "unused")
    before = _settings(proj.db)
    out = tmp_path / "exp"
    export_project(proj, out, ExportOptions("llava"))
    placed = list((out / "images").rglob("*.png"))
    assert placed and read == []  # linked media cost metadata, not a read of their bytes
    for img in placed:
        src = proj.root / "media" / img.parent.name / img.name
        assert img.stat().st_ino == src.stat().st_ino
    monkeypatch.undo()
    assert verify(out) == []  # the trusted content addresses are the files' real sha256
    assert _settings(proj.db) == before


def test_a_file_system_without_links_gets_copies(proj, tmp_path, monkeypatch):
    def no_links(src, dest):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    out = tmp_path / "exp"
    export_project(proj, out, ExportOptions("sharegpt"))
    img = next((out / "images").rglob("*.png"))
    src = proj.root / "media" / img.parent.name / img.name
    assert img.read_bytes() == src.read_bytes() and img.stat().st_ino != src.stat().st_ino
    assert verify(out) == []


def test_settings_are_restored_when_an_export_fails(proj, tmp_path, monkeypatch):
    before = _settings(proj.db)

    def broken(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(placing, "_hardlink", broken)
    monkeypatch.setitem(placing.PLACERS, "hardlink", broken)
    with pytest.raises(Exception, match="No space left"):
        export_project(proj, tmp_path / "exp", ExportOptions("llava"))
    assert _settings(proj.db) == before
    assert not (tmp_path / "exp").exists()
