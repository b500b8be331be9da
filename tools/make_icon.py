"""Draw the app icon: resources/icons/mmstudio.png (512 px) and mmstudio.ico (16-256 px).

A picture frame (a mountain and a sun: the image) with a speech bubble (the instruction) on a
rounded tile. Drawn at 4x and downsampled, so the edges are smooth without an anti-aliasing
drawing API. Run `.venv/bin/python tools/make_icon.py`; the outputs are committed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZE = 512
SCALE = 4
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]

TILE_TOP, TILE_BOTTOM = (38, 84, 160), (22, 46, 96)
FRAME, SKY, HILL, SUN = (245, 247, 250), (120, 190, 235), (58, 150, 96), (255, 200, 60)
BUBBLE, DOTS = (255, 138, 76), (255, 255, 255)


def _tile(s: int) -> Image.Image:
    """A vertical gradient clipped to a rounded square."""
    grad = Image.new("RGBA", (s, s))
    px = grad.load()
    for y in range(s):
        t = y / (s - 1)
        c = tuple(round(a + (b - a) * t) for a, b in zip(TILE_TOP, TILE_BOTTOM, strict=True))
        for x in range(s):
            px[x, y] = (*c, 255)
    mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 5, fill=255)
    out = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    out.paste(grad, (0, 0), mask)
    return out


def draw(size: int = SIZE) -> Image.Image:
    s = size * SCALE
    img = _tile(s)
    d = ImageDraw.Draw(img)
    u = s / 32  # drawing unit: the design is laid out on a 32x32 grid
    # The picture: a framed landscape, upper left.
    d.rounded_rectangle((4 * u, 6 * u, 22 * u, 21 * u), radius=1.5 * u, fill=FRAME)
    d.rectangle((5.5 * u, 7.5 * u, 20.5 * u, 19.5 * u), fill=SKY)
    d.ellipse((15 * u, 9 * u, 18.5 * u, 12.5 * u), fill=SUN)
    d.polygon(
        [(5.5 * u, 19.5 * u), (11 * u, 12 * u), (15 * u, 16 * u), (20.5 * u, 19.5 * u)], fill=HILL
    )
    # The instruction: a speech bubble with three dots, lower right, over the frame's corner.
    d.rounded_rectangle((14 * u, 16 * u, 28 * u, 26 * u), radius=2.5 * u, fill=BUBBLE)
    d.polygon([(17 * u, 25.5 * u), (16 * u, 29 * u), (21 * u, 25.5 * u)], fill=BUBBLE)
    for cx in (17.5, 21, 24.5):
        d.ellipse(((cx - 1.1) * u, 19.9 * u, (cx + 1.1) * u, 22.1 * u), fill=DOTS)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icon = draw()
    icon.save(OUT / "mmstudio.png", optimize=True)
    icon.save(OUT / "mmstudio.ico", sizes=ICO_SIZES)
    print(f"wrote {OUT / 'mmstudio.png'} and {OUT / 'mmstudio.ico'}")


if __name__ == "__main__":
    main()
