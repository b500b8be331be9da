"""Normalized images at export: every peer then reads the same pixels.

Trainers decode images differently: LLaVA and LLaMA-Factory read a JPEG's pixels unrotated
while `datasets` / transformers apply its EXIF orientation; a 16-bit grayscale PNG clips to
almost white under `convert("RGB")`; a transparent pixel shows whatever colour it hides. So
an image that is not already plain 8-bit RGB or grayscale, upright and static is rewritten as
the project shows it (core.library.worker decides that, for thumbnails too):

- EXIF orientation applied (and no EXIF written, so nobody applies it twice);
- 16-bit and 32-bit grayscale scaled to 8 bits (full scale to full scale), CMYK, palette and
  every other mode converted to 8-bit RGB;
- alpha flattened on white (#FFFFFF, `BACKGROUND`);
- animated files reduced to their first frame (the one the library shows);
- optionally the longest side limited to `max_side` (Lanczos).

A rewritten JPEG stays a JPEG (quality 95); anything else becomes PNG. Files keep the name of
their source's sha256, and the encoders run with fixed settings and no metadata, so identical
inputs give identical files. Images that need nothing keep their bytes (and `--images` mode).
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

BACKGROUND = (255, 255, 255)
JPEG_QUALITY = 95
PLAIN_MODES = ("RGB", "L")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La")
OPS = (
    "exif_orientation",
    "to_8bit",
    "cmyk_to_rgb",
    "palette_to_rgb",
    "flatten_alpha",
    "mode_to_rgb",
    "first_frame",
    "resize",
)


@dataclass(frozen=True)
class ImagePlan:
    ops: tuple[str, ...]
    ext: str  # extension of the written file: "jpg" or "png"


def plan_image(src: Path, max_side: int | None = None) -> ImagePlan | None:
    """What `src` needs, from its header; None when its bytes can go out as they are."""
    from PIL import Image

    from core.library.worker import EXIF_ORIENTATION

    with Image.open(src) as im:
        ops = []
        try:
            orientation = im.getexif().get(EXIF_ORIENTATION)
        except Exception:  # a broken EXIF block: the library showed it unrotated too
            orientation = None
        if isinstance(orientation, int) and 2 <= orientation <= 8:
            ops.append("exif_orientation")
        mode = im.mode
        if mode.startswith("I") or mode == "F":
            ops.append("to_8bit")
        elif mode == "CMYK":
            ops.append("cmyk_to_rgb")
        elif mode in ("P", "PA"):
            ops.append("palette_to_rgb")
        elif mode not in (*PLAIN_MODES, *ALPHA_MODES):
            ops.append("mode_to_rgb")
        if mode in ALPHA_MODES or mode == "PA" or (mode == "P" and im.has_transparency_data):
            ops.append("flatten_alpha")
        if int(getattr(im, "n_frames", 1) or 1) > 1:
            ops.append("first_frame")
        if max_side and max(im.size) > max_side:
            ops.append("resize")
        if not ops:
            return None
        return ImagePlan(tuple(ops), "jpg" if im.format == "JPEG" else "png")


def render(src: Path, plan: ImagePlan, max_side: int | None = None) -> bytes:
    """The normalized file's bytes (deterministic for the same source and options)."""
    from PIL import Image

    from core.library.worker import EXIF_ORIENTATION, UPRIGHT, displayable

    with Image.open(src) as im:
        if "first_frame" in plan.ops:
            im.seek(0)
        try:
            orientation = im.getexif().get(EXIF_ORIENTATION)
        except Exception:
            orientation = None
        im.load()
        out = displayable(im)
        if out.mode in ("RGBA", "LA"):
            flat = Image.new("RGB", out.size, BACKGROUND)
            flat.paste(out.convert("RGB"), mask=out.getchannel("A"))
            out = flat
        else:
            out = out.convert("RGB")
    if orientation in UPRIGHT:
        out = out.transpose(UPRIGHT[orientation])
    if "resize" in plan.ops and max_side:
        w, h = out.size
        scale = max_side / max(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        out = out.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    if plan.ext == "jpg":
        out.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
    else:
        out.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


class Normalizer:
    """Plans per selected image (only those that change are kept) and what was done."""

    def __init__(self, enabled: bool, max_side: int | None):
        self.enabled = enabled
        self.max_side = max_side
        self.plans: dict[str, ImagePlan] = {}
        self.by_op: Counter = Counter()

    def consider(self, sha: str, src: Path) -> ImagePlan | None:
        plan = plan_image(src, self.max_side)
        if plan:
            self.plans[sha] = plan
            self.by_op.update(plan.ops)
        return plan

    def bytes_of(self, sha: str, src: Path) -> bytes | None:
        plan = self.plans.get(sha)
        return render(src, plan, self.max_side) if plan else None

    def report(self) -> dict:
        if not self.enabled:
            return {"enabled": False}
        return {
            "enabled": True,
            "background": "#{:02X}{:02X}{:02X}".format(*BACKGROUND),
            "max_side": self.max_side,
            "frame": 0,
            "jpeg_quality": JPEG_QUALITY,
            "changed": len(self.plans),
            "by_op": {op: self.by_op[op] for op in OPS if self.by_op[op]},
        }
