"""Normalized images at export: every odd kind comes out as the 8-bit RGB picture the project
shows, the same pixels in PIL and in `datasets`, the same bytes from the same input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.export.errors import ExportError
from core.export.manifest import file_sha256
from core.export.readers import iter_conversations
from core.export.writer import ExportOptions, export_project
from tests.export.hostile import odd_images, odd_project

FORMATS = ["llava", "sharegpt", "hf", "trl", "internvl", "webdataset"]


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    root = tmp_path_factory.mktemp("odd")
    p, ids = odd_project(root / "p")
    outs = {fmt: export_project(p, root / fmt, ExportOptions(fmt)) for fmt in FORMATS}
    outs["again"] = export_project(p, root / "again", ExportOptions("llava"))
    outs["original"] = export_project(p, root / "orig", ExportOptions("llava", original_bytes=True))
    outs["small"] = export_project(p, root / "small", ExportOptions("trl", max_side=16))
    shas = dict(p.db.fetchall("SELECT id, sha256 FROM images"))
    p.close()
    yield {"out": outs, "sha": {name: shas[i] for name, i in ids.items()}, "root": root}


def _pixels(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _by_sha(out, cache) -> dict[str, np.ndarray]:
    """sha256 of the source (the exported file's name) -> RGB array decoded by PIL."""
    got = {}
    for conv in iter_conversations(out, cache_dir=cache):
        for img in conv.images:
            got[conv.id[:16]] = _pixels(img)
    return got


def test_every_odd_kind_becomes_what_the_project_shows(odd):
    out = odd["out"]["llava"]
    files = {p.stem: p for p in (out.out / "images").rglob("*.*")}
    sha = odd["sha"]
    m = out.manifest["image_normalization"]
    assert m["enabled"] and m["background"] == "#FFFFFF" and m["changed"] == 6
    assert m["by_op"] == {"exif_orientation": 1, "to_8bit": 1, "cmyk_to_rgb": 1,
                          "palette_to_rgb": 2, "flatten_alpha": 2, "first_frame": 1}  # fmt: skip
    for name in ("gray16", "palette_alpha", "rgba", "animated"):
        assert files[sha[name]].suffix == ".png"
    for name in ("cmyk", "exif_rotated", "plain"):
        assert files[sha[name]].suffix == ".jpg"
    for path in files.values():
        with Image.open(path) as im:
            assert im.mode in ("RGB", "L") and getattr(im, "n_frames", 1) == 1
            assert im.getexif().get(0x0112) in (None, 1)
    # 16-bit: full scale to full scale, not clipped to white
    ramp = (np.arange(40 * 30).reshape(30, 40) * 54).astype(np.float64)
    gray = _pixels(files[sha["gray16"]])[:, :, 0].astype(int)
    assert np.abs(gray - (ramp / 257).astype(int)).max() <= 1 and (gray == 255).mean() < 0.01
    # palette + transparency and RGBA: flattened on white
    pal = _pixels(files[sha["palette_alpha"]])
    assert tuple(pal[0, 0]) == (255, 255, 255) and tuple(pal[16, 16]) == (250, 20, 20)
    rgba = _pixels(files[sha["rgba"]])
    assert tuple(rgba[0, 0]) == (255, 255, 255)
    assert np.abs(rgba[10, 15].astype(int) - (247, 227, 132)).max() <= 1
    # EXIF orientation 6 applied: 48x24 stored becomes 24x48 with the left band on top
    rot = _pixels(files[sha["exif_rotated"]])
    assert rot.shape == (48, 24, 3)
    assert rot[2, 12, 2] > 150 and rot[45, 12, 0] > 150
    # CMYK converted the way PIL converts it (one more JPEG generation: small error)
    with Image.open(odd["root"] / "odd" / "cmyk.jpg") as src:
        want = np.asarray(src.convert("RGB")).astype(int)
    err = np.abs(_pixels(files[sha["cmyk"]]).astype(int) - want)
    assert np.median(err) <= 2 and err.mean() < 8
    # animated: the first frame, as the library shows it
    anim = _pixels(files[sha["animated"]])
    assert anim.shape == (26, 26, 3) and tuple(anim[20, 20]) == (250, 120, 0)
    # a plain RGB JPEG keeps its bytes
    assert file_sha256(files[sha["plain"]]) == sha["plain"]


def test_same_pixels_in_every_format_in_pil_and_in_datasets(odd, tmp_path):
    datasets = pytest.importorskip("datasets")
    ref = _by_sha(odd["out"]["llava"].out, tmp_path / "c0")
    assert len(ref) == 12  # 5 images of the hostile project, 7 odd ones
    for fmt in ("sharegpt", "trl", "hf", "internvl", "webdataset"):
        assert _by_sha(odd["out"][fmt].out, tmp_path / fmt).keys() == ref.keys()
        for key, arr in _by_sha(odd["out"][fmt].out, tmp_path / fmt).items():
            assert np.array_equal(arr, ref[key]), (fmt, key)
    # datasets decodes the parquet's embedded bytes (applying EXIF orientation itself)...
    ds = datasets.load_dataset(
        "parquet",
        data_files={"train": str(odd["out"]["hf"].out / "data" / "train-00000-of-00001.parquet")},
        cache_dir=str(tmp_path / "hf-cache"),
    )["train"]
    assert len(ds) == odd["out"]["hf"].manifest["counts"]["splits"]["train"]["records"]
    for row in ds:
        assert np.array_equal(np.asarray(row["images"][0].convert("RGB")), ref[row["id"][:16]])
    # ...and the image files of the folder formats the same way
    feature = datasets.Image()
    for path in (odd["out"]["llava"].out / "images").rglob("*.*"):
        decoded = feature.decode_example({"path": str(path), "bytes": None})
        assert np.array_equal(np.asarray(decoded.convert("RGB")), _pixels(path))


def test_original_bytes_keeps_files_and_shows_why_normalizing_matters(odd):
    orig = odd["out"]["original"]
    assert orig.manifest["image_normalization"] == {"enabled": False}
    sha = odd["sha"]
    for path in (orig.out / "images").rglob("*.*"):
        assert file_sha256(path) == path.stem  # byte for byte
    datasets = pytest.importorskip("datasets")
    rotated = next((orig.out / "images").rglob(f"{sha['exif_rotated']}.*"))
    raw = _pixels(rotated)  # what LLaVA and LLaMA-Factory read: unrotated
    shown = np.asarray(datasets.Image().decode_example({"path": str(rotated), "bytes": None}))
    assert raw.shape[:2] == (24, 48) and shown.shape[:2] == (48, 24)


def test_identical_inputs_give_identical_files(odd):
    a = {p.name: p.read_bytes() for p in (odd["out"]["llava"].out / "images").rglob("*.*")}
    b = {p.name: p.read_bytes() for p in (odd["out"]["again"].out / "images").rglob("*.*")}
    assert a == b


def test_max_side_limits_the_longest_side(odd):
    small = odd["out"]["small"]
    assert small.manifest["image_normalization"]["max_side"] == 16
    assert small.manifest["image_normalization"]["by_op"]["resize"] == 12
    for path in (small.out / "images").rglob("*.*"):
        with Image.open(path) as im:
            assert max(im.size) == 16


def test_bad_options_are_refused(tmp_path):
    odd_images(tmp_path / "x")  # nothing to do with a project: options fail first
    for kw, msg in (
        ({"max_side": 3}, "--max-side"),
        ({"max_side": 64, "original_bytes": True}, "cannot go"),
    ):
        with pytest.raises(ExportError, match=msg):
            ExportOptions("llava", **kw).check()
