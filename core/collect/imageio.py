"""Open an image for embedding: the same format whitelist and pixel limit as the importer,
decoded small (JPEG draft mode) because CLIP only looks at a few hundred pixels."""

from __future__ import annotations

import os
import warnings

from PIL import Image, ImageOps

from core.library.limits import MAX_FILE_BYTES, OPEN_FORMATS

DRAFT_SIDE = 448  # twice the usual CLIP input: draft decoding never goes below this


class ImageProblem(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def open_rgb(path: str | os.PathLike, max_pixels: int) -> Image.Image:
    """An upright RGB copy of the image at `path`, or ImageProblem with a reason code."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise ImageProblem("not_found", exc.strerror or str(exc)) from None
    if size == 0:
        raise ImageProblem("empty")
    if size > MAX_FILE_BYTES:
        raise ImageProblem("too_large", f"{size} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=OPEN_FORMATS) as img:
                if img.width * img.height > max_pixels:
                    raise ImageProblem("too_many_pixels", f"{img.width}x{img.height}")
                if img.format in ("JPEG", "MPO"):
                    img.draft("RGB", (DRAFT_SIDE, DRAFT_SIDE))
                img = ImageOps.exif_transpose(img)
                return img.convert("RGB")
    except ImageProblem:
        raise
    except Image.UnidentifiedImageError:
        raise ImageProblem("not_an_image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageProblem("too_many_pixels", str(exc)) from None
    except MemoryError:
        raise ImageProblem("out_of_memory") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageProblem("corrupt", str(exc)[:200]) from None
