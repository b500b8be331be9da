"""Hostile and awkward inputs: each has a defined outcome, and no file is silently dropped."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.library.importer import import_paths
from core.library.limits import REASONS
from core.store import images as store
from tests.core.import_fixtures import (
    jpeg_bytes,
    mark_encrypted,
    photo,
    png_bomb,
    png_bytes,
    png_header_only,
    save,
)


def reasons(summary) -> dict[str, str]:
    return {Path(r["path"]).name: r["reason"] for r in summary.rejected}


def only_row(project, cols: str):
    rows = project.db.fetchall(f"SELECT {cols} FROM images")
    assert len(rows) == 1, rows
    return rows[0]


def thumb_of(project) -> Image.Image:
    (thumb,) = only_row(project, "thumb")
    with Image.open(project.root / thumb) as t:
        t.load()
        return t


def test_broken_files_are_rejected_with_reasons_and_recorded(project, tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    good = jpeg_bytes(photo(1, (800, 600)))
    (d / "zero.jpg").write_bytes(b"")
    (d / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (d / "header_only.jpg").write_bytes(good[:300])
    (d / "page.jpg").write_text("<!DOCTYPE html><html><body>404</body></html>")
    (d / "notes.jpeg").write_text("just some text\n")
    buf = io.BytesIO()
    photo(2).save(buf, "PPM")
    (d / "portable.png").write_bytes(buf.getvalue())
    buf = io.BytesIO()
    photo(3).save(buf, "PNG")
    png = bytearray(buf.getvalue())
    png[len(png) // 2 : len(png) // 2 + 64] = b"\xff" * 64
    (d / "damaged.png").write_bytes(bytes(png))
    (d / "readme.txt").write_text("not considered")
    (d / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    summary = import_paths(project, [d, tmp_path / "missing.jpg"])
    assert summary.imported == 0
    assert reasons(summary) == {
        "zero.jpg": "empty",
        "truncated.jpg": "truncated",
        "header_only.jpg": "truncated",
        "page.jpg": "not_an_image",
        "notes.jpeg": "not_an_image",
        "portable.png": "unsupported_format",
        "damaged.png": "corrupt",
        "readme.txt": "unsupported_extension",
        "missing.jpg": "not_found",
    }
    assert summary.ignored == 1  # .DS_Store
    assert all(r["reason"] in REASONS and r["detail"] for r in summary.rejected)
    stored = store.rejected_in_batch(project.db, summary.batch_id)
    assert sorted((Path(p).name, r) for p, r, _ in stored) == sorted(reasons(summary).items())
    assert "PPM" in dict((Path(p).name, d) for p, _, d in stored)["portable.png"]
    assert not any((project.root / "media").iterdir())


def test_decompression_bomb_is_refused_before_decoding(project, tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bomb(20_000))  # 400 MP of zeros in ~50 KB
    claim = tmp_path / "claim.png"
    claim.write_bytes(png_header_only(100_000, 100_000))
    summary = import_paths(project, [bomb, claim])
    assert reasons(summary) == {"bomb.png": "too_many_pixels", "claim.png": "too_many_pixels"}
    detail = summary.rejected[0]["detail"]
    assert "400,000,000 pixels" in detail and "178,956,970" in detail


def test_pixel_limit_is_exact_and_configurable(project, tmp_path):
    # Pillow only warns between the limit and twice the limit; both are refusals here.
    project.update_settings(max_image_pixels=1_200_000)
    save(photo(4, (1200, 1000)), tmp_path / "at_limit.png")
    save(photo(5, (1200, 1001)), tmp_path / "one_row_over.png")
    save(photo(6, (2000, 1500)), tmp_path / "far_over.png")
    summary = import_paths(project, [tmp_path])
    assert summary.imported == 1
    assert reasons(summary) == {
        "one_row_over.png": "too_many_pixels",
        "far_over.png": "too_many_pixels",
    }
    assert only_row(project, "width, height") == (1200, 1000)
    assert thumb_of(project).size == (256, 213)


def test_huge_but_legal_jpeg_is_imported_with_a_small_thumbnail(project, tmp_path):
    big = photo(7, (8000, 6000))  # 48 MP, well under the default limit
    save(big, tmp_path / "huge.jpg", quality=85)
    del big
    summary = import_paths(project, [tmp_path / "huge.jpg"])
    assert summary.imported == 1
    assert only_row(project, "width, height, format") == (8000, 6000, "JPEG")
    assert thumb_of(project).size == (256, 192)


def test_cmyk_jpeg(project, tmp_path):
    img = Image.new("CMYK", (300, 200), (0, 255, 255, 0))  # pure red in CMYK
    save(img, tmp_path / "print.jpg", quality=95)
    import_paths(project, [tmp_path / "print.jpg"])
    assert only_row(project, "mode, width, height") == ("CMYK", 300, 200)
    t = thumb_of(project).convert("RGB")
    r, g, b = t.getpixel((t.width // 2, t.height // 2))
    assert r > 200 and g < 60 and b < 60


def test_16_bit_png_is_scaled_not_clipped(project, tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 300).astype(np.uint16), (200, 1))
    img = Image.fromarray(ramp)
    assert img.mode == "I;16"
    save(img, tmp_path / "deep.png")
    import_paths(project, [tmp_path / "deep.png"])
    assert only_row(project, "mode, width, height") == ("I;16", 300, 200)
    t = np.asarray(thumb_of(project).convert("L"), dtype=float)
    assert t[:, :10].mean() < 30 and t[:, -10:].mean() > 225  # the whole ramp survives
    assert 100 < t[:, t.shape[1] // 2].mean() < 155


def test_palette_png_with_transparency_keeps_alpha(project, tmp_path):
    img = Image.new("P", (200, 100), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (100, 0, 200, 100))
    img.info["transparency"] = 0
    save(img, tmp_path / "sticker.png", transparency=0)
    import_paths(project, [tmp_path / "sticker.png"])
    assert only_row(project, "mode") == ("P",)
    t = thumb_of(project).convert("RGBA")
    assert t.getpixel((5, 5))[3] < 10  # transparent half
    r, g, b, a = t.getpixel((t.width - 5, 5))
    assert b > 200 and r < 60 and a > 245  # opaque blue half


@pytest.mark.parametrize("fmt,suffix", [("GIF", "gif"), ("WEBP", "webp")])
def test_animated_images_keep_the_first_frame_and_count_frames(project, tmp_path, fmt, suffix):
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (120, 80), c) for c in colors]
    path = tmp_path / f"anim.{suffix}"
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    import_paths(project, [path])
    assert only_row(project, "format, n_frames, width, height") == (fmt, 3, 120, 80)
    r, g, b = thumb_of(project).convert("RGB").getpixel((60, 40))
    assert r > 200 and g < 60 and b < 60


def test_unicode_emoji_and_space_names(project, tmp_path):
    names = ["café crème.jpg", "日本語 の 写真.png", "🐱 cat 🐶.webp", " leading and trailing .jpg"]
    d = tmp_path / "名前 with space"
    for i, n in enumerate(names):
        save(photo(20 + i), d / n, "JPEG" if n.endswith(".jpg") else None)
    summary = import_paths(project, [d], domain="多言語")
    assert summary.imported == 4 and not summary.rejected
    recorded = {p for (p,) in project.db.fetchall("SELECT path FROM image_sources")}
    assert recorded == {str(d / n) for n in names}
    assert project.db.scalar("SELECT count(*) FROM images WHERE domain = '多言語'") == 4


@pytest.mark.timeout(60)
def test_symlink_loops_end_the_walk(project, tmp_path):
    d = tmp_path / "loop"
    save(photo(30), d / "a" / "pic.jpg")
    os.symlink(d, d / "a" / "back_to_top")  # folder loop
    os.symlink(d / "a", d / "again")  # same folder through another path
    os.symlink("b.jpg", d / "a.jpg")  # file loop: a.jpg -> b.jpg -> a.jpg
    os.symlink("a.jpg", d / "b.jpg")
    os.symlink(d / "nowhere.jpg", d / "dangling.jpg")
    summary = import_paths(project, [d])
    assert summary.imported == 1
    assert reasons(summary) == {
        "back_to_top": "symlink_loop",
        "again": "duplicate_dir",
        "a.jpg": "symlink_loop",
        "b.jpg": "symlink_loop",
        "dangling.jpg": "not_found",
    }


def test_unreadable_paths_have_a_reason(project, tmp_path):
    d = tmp_path / "odd"
    d.mkdir()
    os.mkfifo(d / "pipe.jpg")  # opening it for reading would block forever
    save(photo(31), d / "folder.jpg" / "inside.jpg")  # a folder with an image's name
    paths = [d, d / "pipe.jpg"]
    proc_mem = Path("/proc/self/mem")  # a regular file whose read() fails with EIO, even for root
    if proc_mem.exists():
        paths.append(proc_mem)
    locked = save(photo(32), tmp_path / "locked.jpg")
    locked.chmod(0)
    if os.geteuid() != 0:  # root reads through mode 000, so only test it where it means something
        paths.append(locked)
    summary = import_paths(project, paths)
    got = [(Path(r["path"]).name, r["reason"]) for r in summary.rejected]
    expected = [("pipe.jpg", "not_a_file"), ("pipe.jpg", "not_a_file")]
    if proc_mem.exists():
        expected.append(("mem", "unreadable"))
    if os.geteuid() != 0:
        expected.append(("locked.jpg", "unreadable"))
    assert sorted(got) == sorted(expected)
    assert summary.imported == 1  # folder.jpg/inside.jpg
    locked.chmod(0o644)


def test_zip_entries_never_become_paths(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = Path("/tmp/mmstudio_zip_escape_test.jpg")
    victim.unlink(missing_ok=True)
    archive = outside / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escaped.jpg", jpeg_bytes(photo(40)))
        zf.writestr("../" * 12 + "tmp/up_and_out.jpg", jpeg_bytes(photo(41)))
        zf.writestr(str(victim), jpeg_bytes(photo(42)))
        zf.writestr("C:\\windows\\drive.jpg", jpeg_bytes(photo(43)))
        zf.writestr("fine/ok.jpg", jpeg_bytes(photo(44)))
        zf.writestr("fine/dup.jpg", jpeg_bytes(photo(44)))
        zf.writestr("fine/readme.md", "text")
        zf.writestr("inner.zip", b"PK\x05\x06" + b"\x00" * 18)
        zf.writestr("__MACOSX/fine/._ok.jpg", b"\x00\x05\x16\x07")
        zf.writestr("locked.jpg", jpeg_bytes(photo(45)))
    mark_encrypted(archive, "locked.jpg")
    before = sorted(p for p in tmp_path.rglob("*") if project.root not in p.parents)
    summary = import_paths(project, [archive], domain="zip")
    after = sorted(p for p in tmp_path.rglob("*") if project.root not in p.parents)
    assert after == before and not victim.exists()
    assert not (tmp_path.parent / "escaped.jpg").exists()
    assert summary.imported == 5 and summary.duplicates == 1 and summary.ignored == 1
    assert {r["path"].split("!", 1)[1]: r["reason"] for r in summary.rejected} == {
        "fine/readme.md": "unsupported_extension",
        "inner.zip": "nested_archive",
        "locked.jpg": "encrypted",
    }
    labels = {p for (p,) in project.db.fetchall("SELECT path FROM image_sources")}
    assert f"{archive}!../../escaped.jpg" in labels and f"{archive}!{victim}" in labels
    for (path,) in project.db.fetchall("SELECT path FROM images"):
        assert path.startswith("media/")


def test_damaged_zip_archives(project, tmp_path):
    (tmp_path / "random.zip").write_bytes(os.urandom(2048))
    payload = jpeg_bytes(photo(50))
    with zipfile.ZipFile(tmp_path / "crc.zip", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("bitrot.jpg", payload)
        zf.writestr("intact.jpg", jpeg_bytes(photo(51)))
    raw = bytearray((tmp_path / "crc.zip").read_bytes())
    at = raw.find(payload) + len(payload) // 2
    raw[at : at + 16] = bytes(b ^ 0xFF for b in raw[at : at + 16])
    (tmp_path / "crc.zip").write_bytes(bytes(raw))
    summary = import_paths(project, [tmp_path / "random.zip", tmp_path / "crc.zip"])
    assert summary.imported == 1
    got = {r["path"].split("/")[-1]: r["reason"] for r in summary.rejected}
    assert got == {"random.zip": "bad_archive", "crc.zip!bitrot.jpg": "bad_archive"}
    assert "CRC" in summary.rejected[1]["detail"]


def test_project_folder_inside_the_input_is_not_imported_into_itself(tmp_path):
    from core.project import Project

    save(photo(60), tmp_path / "pic.jpg")
    with Project.create(tmp_path / "proj") as p:
        first = import_paths(p, [tmp_path])
        second = import_paths(p, [tmp_path])
        assert (first.imported, first.ignored) == (1, 1)
        assert (second.imported, second.duplicates) == (0, 1)


def test_every_file_is_accounted_for(project, tmp_path):
    d = tmp_path / "mix"
    for i in range(6):
        save(photo(70 + i), d / f"ok{i}.jpg")
    (d / "dup.jpg").write_bytes((d / "ok0.jpg").read_bytes())
    (d / "empty.png").write_bytes(b"")
    (d / "bomb.png").write_bytes(png_bytes(50_000, 50_000, 1, 0, b""))
    (d / "text.gif").write_text("GIF? no")
    summary = import_paths(project, [d])
    n_files = len(list(d.iterdir()))
    assert summary.imported + summary.duplicates + len(summary.rejected) == n_files
    counts = store.batch(project.db, summary.batch_id)["counts"]
    assert counts == {
        "imported": 6,
        "duplicates": 1,
        "near_duplicates": 0,
        "rejected": 3,
        "ignored": 0,
    }
