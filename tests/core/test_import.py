"""Image import: metadata, content-addressed copies, thumbnails, dedup, batches, CLI, crashes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from core.library.importer import import_paths
from core.library.limits import REASONS
from core.project import Project
from core.store import images as store
from tests.core.import_fixtures import exif_with_orientation, jpeg_bytes, photo, save

REPO = Path(__file__).resolve().parents[2]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def folder(tmp_path) -> Path:
    src = tmp_path / "src"
    save(photo(1), src / "a.jpg", quality=90)
    save(photo(2), src / "sub" / "b.png")
    save(photo(3, (200, 300)), src / "sub" / "deeper" / "c.webp", quality=90)
    return src


def test_folder_import_records_metadata_copies_and_thumbnails(project, folder):
    summary = import_paths(project, [folder], domain="nature")
    assert summary.to_json()["imported"] == 3
    assert summary.duplicates == summary.near_duplicates == 0 and summary.rejected == []
    rows = project.db.fetchall(
        "SELECT sha256, width, height, format, mode, n_frames, bytes, storage, path, thumb, "
        "domain, phash, batch_id FROM images ORDER BY id"
    )
    by_name = {
        "a.jpg": ("JPEG", 320, 240),
        "b.png": ("PNG", 320, 240),
        "c.webp": ("WEBP", 200, 300),
    }
    files = [folder / "a.jpg", folder / "sub" / "b.png", folder / "sub" / "deeper" / "c.webp"]
    assert [r[0] for r in rows] == [sha(f) for f in files]  # walk order: name order, depth first
    for row, f in zip(rows, files, strict=True):
        digest, w, h, fmt, mode, frames, size, storage, path, thumb, domain, phash, batch = row
        assert (fmt, w, h) == by_name[f.name]
        assert mode == "RGB" and frames == 1 and size == f.stat().st_size
        assert storage == "copy" and path == f"media/{digest[:2]}/{digest}.{f.suffix[1:]}"
        assert (project.root / path).read_bytes() == f.read_bytes()
        # Opaque pictures get JPEG thumbnails (fast to encode, shown by Qt without a plugin).
        assert thumb == f"thumbs/{digest[:2]}/{digest}.jpg"
        with Image.open(project.root / thumb) as t:
            assert t.format == "JPEG" and max(t.size) == 256
        assert domain == "nature" and phash is not None and batch == summary.batch_id
        assert store.sources_of(project.db, _id(project, digest)) == [str(f)]
    assert project.db.fetchall("SELECT name, title FROM domains") == [("nature", "nature")]
    info = store.batch(project.db, summary.batch_id)
    assert info["domain"] == "nature" and info["finished_at"] is not None
    assert info["counts"] == {
        "imported": 3,
        "duplicates": 0,
        "near_duplicates": 0,
        "rejected": 0,
        "ignored": 0,
    }
    assert info["options"]["storage"] == "copy" and info["options"]["thumbnail_size"] == 256
    assert not list(project.root.glob("*/*/*.tmp"))


def _id(project: Project, digest: str) -> int:
    return store.image_id_by_sha(project.db, digest)


def test_reimport_of_the_same_folder_is_all_duplicates(project, folder):
    import_paths(project, [folder], domain="nature")
    before = project.db.fetchall("SELECT * FROM image_sources ORDER BY image_id")
    again = import_paths(project, [folder], domain="nature")
    assert again.to_json() == {
        "imported": 0,
        "duplicates": 3,
        "near_duplicates": 0,
        "rejected": [],
        "ignored": 0,
        "batch_id": again.batch_id,
    }
    assert project.db.scalar("SELECT count(*) FROM images") == 3
    assert project.db.fetchall("SELECT * FROM image_sources ORDER BY image_id") == before
    assert project.db.scalar("SELECT count(*) FROM rejected") == 0


def test_duplicates_inside_one_batch_are_one_image_with_every_source(project, tmp_path):
    data = jpeg_bytes(photo(5))
    paths = [tmp_path / "x" / n for n in ("one.jpg", "two.jpg", "three.JPEG")]
    for p in paths:
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
    summary = import_paths(project, [tmp_path / "x"])
    assert (summary.imported, summary.duplicates) == (1, 2)
    (image_id,) = project.db.fetchone("SELECT id FROM images")
    assert store.sources_of(project.db, image_id) == sorted(str(p) for p in paths)
    # a later import of the same bytes under a new name adds a source, not an image
    (tmp_path / "four.jpg").write_bytes(data)
    later = import_paths(project, [tmp_path / "four.jpg"], domain="late")
    assert (later.imported, later.duplicates) == (0, 1)
    assert len(store.sources_of(project.db, image_id)) == 4
    # an image without a domain takes the domain of the batch that saw it again
    assert project.db.scalar("SELECT domain FROM images") == "late"


def test_near_duplicates_share_the_group_of_the_first_image(project, tmp_path):
    base = photo(7, (640, 480))
    save(base, tmp_path / "n" / "1_orig.jpg", quality=95)
    save(base.resize((320, 240)), tmp_path / "n" / "2_small.png")
    save(base, tmp_path / "n" / "3_low.jpg", quality=40)
    save(photo(8, (640, 480)), tmp_path / "n" / "4_other.jpg")
    summary = import_paths(project, [tmp_path / "n"])
    assert (summary.imported, summary.near_duplicates) == (4, 2)
    groups = project.db.fetchall("SELECT id, near_dup_group FROM images ORDER BY id")
    first = groups[0][0]
    assert [g for _, g in groups] == [first, first, first, None]
    # the next batch joins the existing group rather than starting its own
    save(base, tmp_path / "later.webp", quality=70)
    later = import_paths(project, [tmp_path / "later.webp"])
    assert later.near_duplicates == 1
    assert project.db.scalar("SELECT near_dup_group FROM images ORDER BY id DESC LIMIT 1") == first


def test_near_threshold_negative_disables_grouping(project, tmp_path):
    base = photo(9)
    save(base, tmp_path / "a.jpg", quality=95)
    save(base, tmp_path / "b.jpg", quality=50)
    summary = import_paths(project, [tmp_path / "a.jpg", tmp_path / "b.jpg"], near_threshold=-1)
    assert (summary.imported, summary.near_duplicates) == (2, 0)
    assert project.db.scalar("SELECT count(near_dup_group) FROM images") == 0


def test_reference_mode_keeps_files_in_place_but_copies_zip_entries(project, tmp_path):
    f = save(photo(11), tmp_path / "in place.jpg")
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner/p.jpg", jpeg_bytes(photo(12)))
    summary = import_paths(project, [f, archive], reference=True)
    assert summary.imported == 2
    rows = project.db.fetchall("SELECT storage, path, thumb FROM images ORDER BY id")
    assert rows[0][:2] == ("reference", str(f.resolve()))
    assert rows[1][0] == "copy" and (project.root / rows[1][1]).is_file()
    assert not list((project.root / "media").glob(f"*/{sha(f)}*"))
    assert all((project.root / thumb).is_file() for _, _, thumb in rows)
    assert project.resolve_media(*rows[0][:2]) == f.resolve()


def test_project_storage_setting_reference_is_honoured(project, tmp_path):
    project.update_settings(storage="reference")
    f = save(photo(13), tmp_path / "r.png")
    import_paths(project, [f])
    assert project.db.fetchone("SELECT storage, path FROM images") == ("reference", str(f))


def test_exif_rotated_jpeg_thumbnail_and_size_are_upright(project, tmp_path):
    # Stored 400x200 with a red block top-left; orientation 6 means "rotate 90 degrees
    # clockwise to display", which puts the block top-right of a 200x400 picture.
    img = Image.new("RGB", (400, 200), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 100, 100))
    f = tmp_path / "rot.jpg"
    img.save(f, quality=95, exif=exif_with_orientation(6))
    import_paths(project, [f])
    w, h, orientation, thumb = project.db.fetchone(
        "SELECT width, height, exif_orientation, thumb FROM images"
    )
    assert (w, h, orientation) == (200, 400, 6)
    with Image.open(project.root / thumb) as t:
        t = t.convert("RGB")
        assert t.size == (128, 256)
        r, g, b = t.getpixel((t.width - 10, 10))
        assert r > 200 and b < 60  # red top-right
        r, g, b = t.getpixel((10, 10))
        assert b > 200 and r < 60  # blue top-left


def test_progress_reports_every_file(project, folder):
    calls = []
    import_paths(project, [folder], progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 3) and calls[-1] == (3, 3)
    assert [d for d, _ in calls] == [0, 1, 2, 3]


def test_in_process_mode_gives_the_same_rows(tmp_path, folder):
    rows = []
    for workers in (0, 2):
        with Project.create(tmp_path / f"p{workers}") as p:
            import_paths(p, [folder], workers=workers)
            rows.append(
                p.db.fetchall("SELECT sha256, phash, width, height FROM images ORDER BY id")
            )
    assert rows[0] == rows[1] and len(rows[0]) == 3


def test_cli_import_prints_the_documented_json(tmp_path, folder):
    Project.create(tmp_path / "proj").close()
    (folder / "notes.txt").write_text("not a picture")
    mmstudio = REPO / ".venv" / "bin" / "mmstudio"
    cmd = [str(mmstudio)] if mmstudio.exists() else [sys.executable, "-m", "core"]
    done = subprocess.run(
        [*cmd, "import", str(tmp_path / "proj"), str(folder), "--domain", "d", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["imported"] == 3 and out["duplicates"] == 0 and out["near_duplicates"] == 0
    assert out["rejected"] == [
        {
            "path": str(folder / "notes.txt"),
            "reason": "unsupported_extension",
            "detail": "suffix '.txt'",
        }
    ]
    with Project.open(tmp_path / "proj") as p:
        assert p.db.scalar("SELECT count(*) FROM images WHERE domain = 'd'") == 3


CRASHER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from core.library import importer
    from core.project import Project

    def progress(done, total):
        if done == int(sys.argv[3]):
            os._exit(9)  # no cleanup, no flush: the process just dies

    if __name__ == "__main__":  # worker processes import this script again
        importer.CHUNK = 4  # several commits before the crash
        with Project.open(sys.argv[1]) as p:
            importer.import_paths(p, [Path(sys.argv[2])], progress=progress)
    """
)


def test_crash_mid_import_leaves_only_whole_rows(tmp_path):
    src = tmp_path / "many"
    for i in range(14):
        save(photo(100 + i, (160, 120)), src / f"{i:02d}.jpg")
    Project.create(tmp_path / "proj").close()
    script = tmp_path / "crash.py"
    script.write_text(CRASHER)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "proj"), str(src), "10"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 9, done.stderr
    with Project.open(tmp_path / "proj") as p:
        rows = p.db.fetchall("SELECT id, sha256, path, thumb FROM images")
        assert 0 < len(rows) < 14
        for image_id, digest, path, thumb in rows:
            assert sha(p.root / path) == digest and (p.root / thumb).is_file()
            assert store.sources_of(p.db, image_id)
        orphans = p.db.scalar(
            "SELECT count(*) FROM image_sources s ANTI JOIN images i ON i.id = s.image_id"
        )
        assert orphans == 0
        assert p.db.scalar("SELECT finished_at FROM import_batches") is None  # interrupted
        again = import_paths(p, [src])
        assert again.imported + again.duplicates == 14 and not again.rejected
        assert again.duplicates == len(rows)
        assert p.db.scalar("SELECT count(*) FROM images") == 14
        assert not list(p.root.glob("*/*/*.tmp"))


def test_a_killed_worker_does_not_lose_files(project, tmp_path, monkeypatch):
    psutil = pytest.importorskip("psutil")
    from core.library.pool import OrderedPool

    retried = []
    real_alone = OrderedPool._alone

    def counting_alone(self, task):
        retried.append(task.label)
        return real_alone(self, task)

    monkeypatch.setattr(OrderedPool, "_alone", counting_alone)
    src = tmp_path / "k"
    for i in range(12):
        save(photo(200 + i, (800, 600)), src / f"{i:02d}.png")
    killed = []

    def progress(done, total):
        if done == 2 and not killed:
            me = os.getpid()
            workers = [c for c in psutil.Process(me).children(recursive=True) if c.ppid() != me]
            assert workers, "expected pool workers below the fork server"
            workers[0].kill()
            killed.append(workers[0].pid)

    summary = import_paths(project, [src], workers=2, progress=progress)
    assert killed and retried  # the pool broke and the files in flight were retried alone
    assert summary.imported == 12 and summary.rejected == []
    assert project.db.scalar("SELECT count(*) FROM images") == 12


def test_every_reason_code_is_documented():
    text = (REPO / "docs" / "import.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE))
    assert documented == set(REASONS)
