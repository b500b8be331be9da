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
