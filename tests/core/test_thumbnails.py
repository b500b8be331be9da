"""Thumbnail format choice, the pHash's equality with imagehash, and old projects' thumbnails."""

from __future__ import annotations

import imagehash
import numpy as np
import pytest
from PIL import Image

from core.library.importer import import_paths
from core.library.phash import phash
from core.project import Project
from tests.core.import_fixtures import photo, save


@pytest.fixture
def project(tmp_path):
    with Project.create(tmp_path / "proj") as p:
        yield p


def test_transparent_pictures_keep_a_webp_thumbnail_with_alpha(project, tmp_path):
    rgba = photo(5).convert("RGBA")
    alpha = np.zeros((240, 320), dtype=np.uint8)
    alpha[:, 160:] = 255
    rgba.putalpha(Image.fromarray(alpha))
    save(rgba, tmp_path / "src" / "clear.png")
    save(photo(6), tmp_path / "src" / "opaque.png")
    import_paths(project, [tmp_path / "src"], workers=0)
    thumbs = dict(project.db.fetchall("SELECT mode, thumb FROM images"))
    assert thumbs["RGBA"].endswith(".webp") and thumbs["RGB"].endswith(".jpg")
    with Image.open(project.root / thumbs["RGBA"]) as t:
        assert t.format == "WEBP" and t.mode == "RGBA" and t.getpixel((5, 5))[3] == 0


def test_phash_is_bit_for_bit_imagehash():
    rng = np.random.default_rng(0)
    pictures = [photo(seed, size) for seed, size in enumerate([(320, 240), (97, 301), (64, 64)])]
    pictures.append(Image.fromarray(rng.integers(0, 256, (120, 90), dtype=np.uint8), "L"))
    pictures.append(photo(9).convert("RGBA"))
    for im in pictures:
        assert phash(im) == int(str(imagehash.phash(im)), 16)


def test_a_webp_thumbnail_from_an_older_version_counts_as_written(project, tmp_path):
    src = save(photo(7), tmp_path / "a.jpg", quality=90)
    import_paths(project, [src], workers=0)
    (path,) = project.db.fetchall("SELECT thumb FROM images")[0]
    old = (project.root / path).with_suffix(".webp")
    Image.open(project.root / path).save(old, "WEBP")
    (project.root / path).unlink()
    project.db.execute("UPDATE images SET thumb = ?", [str(old.relative_to(project.root))])
    project.db.execute("DELETE FROM images")  # the row is gone, the old thumbnail is not
    again = import_paths(project, [src, save(photo(7), tmp_path / "b.jpg", quality=90)], workers=0)
    assert again.imported == 1
    # The old-format thumbnail of the re-imported content was decoded again, not trusted blindly
    (thumb,) = project.db.fetchall("SELECT thumb FROM images WHERE sha256 IS NOT NULL")[0]
    assert (project.root / thumb).is_file()


# pHashes stored by earlier versions for these two files (draft decode, Image.thumbnail with
# BILINEAR, imagehash.phash): dedup compares new images with stored values, so the import
# must keep giving exactly these numbers.
STORED_PHASH = {"smooth.jpg": 12481750760875878920, "textured.jpg": 18135480785699242105}


def _stored_phash_files(folder):
    rng = np.random.default_rng(3)
    grain = rng.integers(-20, 21, (1600, 1200, 1), dtype=np.int16)
    textured = (np.asarray(photo(12, (1200, 1600)), np.int16) + grain).clip(0, 255)
    save(photo(11, (1600, 1200)), folder / "smooth.jpg", quality=90)
    save(Image.fromarray(textured.astype(np.uint8)), folder / "textured.jpg", quality=90)


def test_imported_phash_equals_the_value_earlier_versions_stored(project, tmp_path):
    _stored_phash_files(tmp_path / "src")
    import_paths(project, [tmp_path / "src"], workers=0)
    rows = project.db.fetchall(
        "SELECT s.path, i.phash FROM images i JOIN image_sources s ON s.image_id = i.id"
    )
    got = {path.rsplit("/", 1)[-1]: phash for path, phash in rows}
    assert got == STORED_PHASH
    thumbs = dict(
        project.db.fetchall(
            "SELECT s.path, i.thumb FROM images i JOIN image_sources s ON s.image_id = i.id"
        )
    )
    for name, value in STORED_PHASH.items():  # and the earlier versions' own computation
        with Image.open(tmp_path / "src" / name) as im:
            im.draft("RGB", (256, 256))
            im.thumbnail((256, 256), Image.Resampling.BILINEAR)
            assert int(str(imagehash.phash(im)), 16) == value
            # The thumbnail is that same picture, encoded as before: byte for byte the file.
            earlier = tmp_path / f"earlier-{name}"
            im.save(earlier, "JPEG", quality=85)
        (thumb,) = [t for path, t in thumbs.items() if path.endswith(name)]
        assert (project.root / thumb).read_bytes() == earlier.read_bytes()


def test_phash_equals_imagehash_on_many_thumbnails():
    rng = np.random.default_rng(5)
    for seed in range(60):
        im = photo(100 + seed, (256, 192))
        if seed % 2:  # textured: many coefficients close to the median
            noise = rng.integers(-40, 41, (192, 256, 1), dtype=np.int16)
            im = Image.fromarray((np.asarray(im, np.int16) + noise).clip(0, 255).astype(np.uint8))
        assert phash(im) == int(str(imagehash.phash(im)), 16)
