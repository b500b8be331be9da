"""Images for the wire: data URIs with the right MIME type, shrunk to a longest side."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image, ImageOps

from core.backends.base import ImagePart, RequestRejected

# Formats every OpenAI-compatible server we target accepts as-is; others are re-encoded.
_PASSTHROUGH = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def _read(part: ImagePart) -> bytes:
    if part.data is not None:
        return part.data
    try:
        return Path(part.path).read_bytes()
    except OSError as exc:
        raise RequestRejected(f"cannot read image {part.path}: {exc.strerror or exc}") from None


def encode_image(part: ImagePart, max_side: int | None) -> tuple[str, str]:
    """(data URI, mime). Unchanged bytes when the image already fits and is a common format."""
    raw = _read(part)
    try:
        img = Image.open(io.BytesIO(raw))
        fmt = img.format
        w, h = img.size
    except Exception:
        raise RequestRejected(f"not a readable image: {part.path or 'bytes'}") from None
    fits = not max_side or max(w, h) <= max_side
    orientation = img.getexif().get(0x0112, 1) if fmt in ("JPEG", "WEBP") else 1
    if fits and fmt in _PASSTHROUGH and orientation == 1 and getattr(img, "n_frames", 1) == 1:
        mime = _PASSTHROUGH[fmt]
        return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}", mime
    try:
        img.seek(0)
        img = ImageOps.exif_transpose(img)
        if max_side and max(img.size) > max_side:
            img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        has_alpha = img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)
        out = io.BytesIO()
        if has_alpha:
            img.convert("RGBA").save(out, "PNG", optimize=False)
            mime = "image/png"
        else:
            img.convert("RGB").save(out, "JPEG", quality=90)
            mime = "image/jpeg"
    except Exception as exc:
        raise RequestRejected(f"cannot re-encode image {part.path or 'bytes'}: {exc}") from None
    return f"data:{mime};base64,{base64.b64encode(out.getvalue()).decode('ascii')}", mime
