"""A small real project for pipeline tests: default domains and seeds, and four rendered
photos-with-text imported through the library importer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures_loopback import lb_backend, loopback  # noqa: F401  (fixtures)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def font(size: int, cjk: bool = False):
    from PIL import ImageFont

    path = NOTO_CJK if cjk else DEJAVU
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def sign_image(path: Path, lines: list[str], colour: str, cjk: bool = False, size=(480, 240)):
    """A flat 'sign' with dark text on a coloured board, plus shapes so images differ."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle([10, 10, size[0] - 10, size[1] - 10], outline="black", width=4)
    f = font(44, cjk)
    for i, line in enumerate(lines):
        draw.text((30, 30 + i * 70), line, fill="black", font=f)
    img.save(path)
    return path


@pytest.fixture
def demo_project(project, tmp_path):
    """project + default taxonomy + 4 images: 2 in `ocr`, 1 in `posters`, 1 in `image_scene`."""
    from core.domains import install_defaults
    from core.library.importer import import_paths

    install_defaults(project.db)
    src = tmp_path / "src"
    src.mkdir()
    ocr = [
        sign_image(src / "bakery.png", ["FRESH BREAD", "OPEN 7-19"], "#f4d58d"),
        sign_image(src / "exit.png", ["EXIT", "出口"], "#8fd19e", cjk=True),
    ]
    posters = [sign_image(src / "concert.png", ["JAZZ NIGHT", "FRIDAY 8PM"], "#9ec5fe")]
    scene = [sign_image(src / "park.png", ["PARK"], "#c3e6cb", size=(400, 300))]
    for paths, domain in ((ocr, "ocr"), (posters, "posters"), (scene, "image_scene")):
        summary = import_paths(project, paths, domain=domain, workers=0)
        assert not summary.rejected
    return project
