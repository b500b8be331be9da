"""The per-file work, run in worker processes: read once (core.library.reader), hash,
decode once, thumbnail.

Workers never open the database. Each returns an `Outcome` (plain data) to the parent, which
decides about duplicates and writes rows. Files are written under a temporary name and then
renamed, so a crash never leaves a half-written media file or thumbnail behind a real name.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import multiprocessing
import multiprocessing.connection
import os
import re
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.library import reader
from core.library.limits import FORMAT_EXT, MAX_FILE_BYTES, OPEN_FORMATS, Reject
from core.library.phash import phash
from core.library.scan import Task

EXIF_ORIENTATION = 0x0112
# EXIF orientation -> the transpose that shows the picture upright (EXIF 2.3, tag 274).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Thumbnail encoders by file suffix. JPEG for opaque pictures: ~0.3 ms for a 256-px thumbnail
# against ~1.5 ms for WebP at its fastest method (8 ms at its default), 41 dB PSNR against
# 38 dB, for ~50 % more bytes (8 KiB against 5.4 KiB). WebP only where JPEG cannot hold
# the alpha channel. Older projects keep their .webp thumbnails: readers use images.thumb.
THUMB_ENCODERS: dict[str, tuple[str, dict]] = {
    "jpg": ("JPEG", {"quality": 85}),
    "webp": ("WEBP", {"quality": 80, "method": 0}),
}
THUMB_EXTS = tuple(THUMB_ENCODERS)
_DRAFT_FORMATS = ("JPEG", "MPO")


@dataclass(frozen=True)
class WorkerConfig:
    root: str  # project folder
    thumb_size: int
    max_pixels: int
    copy: bool  # write media/ab/<sha>.<ext>; zip entries are copied regardless
    known: np.ndarray  # sorted uint64 prefixes of sha256s already in the project
    max_bytes: int = MAX_FILE_BYTES


@dataclass
class Outcome:
    key: int
    sha256: str | None = None
    reason: str | None = None  # a rejection code from limits.REASONS
    detail: str = ""
    fatal: str | None = None  # the project itself could not be written: stop the import
    known: bool = False  # content already in the project: hashed, not decoded
    bytes: int = 0
    width: int = 0
    height: int = 0
    format: str = ""
    mode: str = ""
    n_frames: int = 1
    orientation: int | None = None
    phash: int = 0
    ext: str = ""
    thumb_ext: str = ""
    copied: bool = False


_config: WorkerConfig | None = None
_made_dirs: set[str] = set()
# Temp names: pid + a counter is unique among live writers (a crashed one leaves *.tmp,
# which the next import removes), without a urandom call per file.
_tmp_seq = itertools.count()


def init_worker(config: WorkerConfig) -> None:
    global _config
    _config = config
    reader.close_archives()
    _made_dirs.clear()
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(sentinel: int) -> None:
    # A pool's workers wait for work forever, and the fork server waits for them: if the
    # importing process is killed outright, they must notice and go too.
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def sha_prefix(sha: str) -> int:
    return int(sha[:16], 16)


def process(task: Task, force: bool = False) -> Outcome:
    """Everything for one file. `force` decodes even content the project already holds."""
    cfg = _config
    assert cfg is not None, "init_worker() first"
    out = Outcome(task.key)
    try:
        data = reader.read(task, cfg.max_bytes)
        out.bytes = len(data)
        out.sha256 = hashlib.sha256(data).hexdigest()
        if not force and (
            _is_known(cfg.known, out.sha256) or _already_written(out.sha256, cfg, task)
        ):
            out.known = True
            return out
        thumb = _decode(data, out, cfg)
        try:
            _write_outputs(data, thumb, out, cfg, copy=cfg.copy or task.member is not None)
        except OSError as exc:
            out.fatal = f"cannot write into the project: {exc}"
    except Reject as r:
        out.reason, out.detail = r.reason, r.detail
    except MemoryError:
        out.reason, out.detail = "out_of_memory", "decoding needed more memory than available"
    return out


def crashed(task: Task) -> Outcome:
    return Outcome(task.key, reason="worker_crashed", detail="decoder process died")


def _already_written(sha: str, cfg: WorkerConfig, task: Task) -> bool:
    """Another worker finished this content earlier in the batch (an exact duplicate): its
    thumbnail (and copy) exist, so decoding again would only repeat work."""
    if existing_thumb(cfg.root, sha) is None:
        return False
    if not (cfg.copy or task.member is not None):
        return True
    media = os.path.join(cfg.root, "media", sha[:2])
    return any(n.startswith(sha) and not n.endswith(".tmp") for n in _listdir(media))


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _is_known(known: np.ndarray, sha: str) -> bool:
    if not len(known):
        return False
    v = np.uint64(sha_prefix(sha))
    i = int(np.searchsorted(known, v))
    return i < len(known) and known[i] == v


# decoding -----------------------------------------------------------------------------
def _decode(data: bytes, out: Outcome, cfg: WorkerConfig) -> Image.Image:
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = cfg.max_pixels
    try:
        with warnings.catch_warnings():
            # Pillow only warns between the limit and twice the limit: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode_checked(data, out, cfg)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own text quotes its internal 2x threshold; say what our limit is instead.
        m = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(m.group(1)):,} pixels" if m else "the image"
        raise Reject(
            "too_many_pixels", f"{size} exceeds max_image_pixels = {cfg.max_pixels:,}"
        ) from None
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _decode_checked(data: bytes, out: Outcome, cfg: WorkerConfig) -> Image.Image:
    try:
        im = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
    except UnidentifiedImageError:
        other = _sniff(data)
        if other:
            raise Reject("unsupported_format", f"{other} is not accepted") from None
        raise Reject("not_an_image", "no known image format") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise
    except Exception as exc:  # a recognised header, then damage while parsing it
        raise Reject(_decode_reason(exc), f"{type(exc).__name__}: {exc}") from None
    with im:
        try:
            out.format, out.mode = im.format, im.mode
            width, height = im.size
            out.n_frames = int(getattr(im, "n_frames", 1) or 1)
            if out.n_frames > 1:
                im.seek(0)  # counting frames moved the file to the last one
            if im.format in _DRAFT_FORMATS:
                # DCT scaling: libjpeg still reads every coefficient (so truncation and
                # corruption are caught), but builds only the size the thumbnail needs.
                im.draft("RGB", (cfg.thumb_size, cfg.thumb_size))
                # The bytes are in memory already: feed the decoder all of them at once
                # rather than in 64 kB reads, each concatenated to the unconsumed rest
                # (~0.13 ms of a 5.3 ms decode; the same pixels).
                im.decodermaxblock = max(im.decodermaxblock, len(data))
            im.load()
            # After load(): some plugins (PNG) load the pixels to find EXIF, and a failure
            # swallowed there would let a second load() pass over a truncated file.
            out.orientation = _orientation(im)
            thumb = _shrunk(_displayable(im), cfg.thumb_size)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
            raise
        except Exception as exc:  # hostile files raise anything from struct.error to KeyError
            raise Reject(_decode_reason(exc), f"{type(exc).__name__}: {exc}") from None
    if out.orientation in _UPRIGHT:
        thumb = thumb.transpose(_UPRIGHT[out.orientation])
        if out.orientation >= 5:
            width, height = height, width
    out.width, out.height = width, height
    out.ext = FORMAT_EXT[out.format]
    out.thumb_ext = "webp" if "A" in thumb.mode else "jpg"
    out.phash = phash(thumb)
    return thumb


def _shrunk(im: Image.Image, side: int) -> Image.Image:
    """Fit within side x side. After a JPEG draft the picture is less than 2x too large, so
    one bilinear resize finishes it (it looks like bicubic there at 3/4 of the cost); other
    formats first drop by a whole factor with reduce(), a box filter, then do the same."""
    w, h = im.size
    if w <= side and h <= side:
        return im
    scale = side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    factor = int(1 / scale) // 2
    if factor >= 2:
        im = im.reduce(factor)
    return im.resize(size, Image.Resampling.BILINEAR, reducing_gap=None)


def _decode_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "truncat" in text or "end of file" in text:
        return "truncated"
    return "corrupt"


def _sniff(data: bytes) -> str | None:
    """Name a format we refuse, for a better message; headers only, nothing is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return im.format
    except Exception:
        return None


def _orientation(im: Image.Image) -> int | None:
    try:
        value = im.getexif().get(EXIF_ORIENTATION)
    except Exception:  # a broken EXIF block is no reason to refuse the picture
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _displayable(im: Image.Image) -> Image.Image:
    """An RGB/RGBA/L image whatever the source mode (16-bit, CMYK, palette, float...)."""
    mode = im.mode
    if mode in ("RGB", "RGBA", "L"):
        return im
    if mode.startswith("I") or mode == "F":
        a = np.asarray(im, dtype=np.float64)
        if mode == "F":
            lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
            a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        else:
            a = a / 257.0  # 16-bit full scale to 8-bit full scale
        return Image.fromarray(np.nan_to_num(a).clip(0, 255).astype(np.uint8), "L")
    if mode in ("P", "PA"):
        return im.convert("RGBA" if im.has_transparency_data else "RGB")
    if mode in ("LA", "La", "RGBa"):
        return im.convert("RGBA")
    if mode == "1":
        return im.convert("L")
    return im.convert("RGB")


# What the project shows, for the export's normalized images (core/export/normalize.py).
displayable = _displayable
UPRIGHT = _UPRIGHT


# writing ------------------------------------------------------------------------------
def media_relpath(sha: str, ext: str) -> str:
    return f"media/{sha[:2]}/{sha}.{ext}"


def thumb_relpath(sha: str, ext: str = "jpg") -> str:
    return f"thumbs/{sha[:2]}/{sha}.{ext}"


def existing_thumb(root: str, sha: str) -> str | None:
    """The relative path of a thumbnail already written for `sha`, in any of our formats."""
    for ext in THUMB_EXTS:
        rel = thumb_relpath(sha, ext)
        if os.path.exists(os.path.join(root, rel)):
            return rel
    return None


def _write_outputs(
    data: bytes, thumb: Image.Image, out: Outcome, cfg: WorkerConfig, copy: bool
) -> None:
    fmt, options = THUMB_ENCODERS[out.thumb_ext]
    _atomic_write(
        os.path.join(cfg.root, thumb_relpath(out.sha256, out.thumb_ext)),
        lambda f: thumb.save(f, fmt, **options),
    )
    if copy:
        _atomic_write(
            os.path.join(cfg.root, media_relpath(out.sha256, out.ext)), lambda f: f.write(data)
        )
        out.copied = True


def _atomic_write(final: str, write) -> None:
    if os.path.exists(final):  # content-addressed: an existing file already holds these bytes
        return
    folder = os.path.dirname(final)
    if folder not in _made_dirs:
        os.makedirs(folder, exist_ok=True)
        _made_dirs.add(folder)
    tmp = f"{final}.{os.getpid()}.{next(_tmp_seq)}.tmp"
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, final)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remake_thumbnail(root: str, sha: str, source: str, thumb_size: int, max_pixels: int) -> str:
    """Decode `source` again and write its missing thumbnail (`mmstudio doctor --fix`);
    returns the thumbnail's path relative to the project. Raises Reject for a bad file."""
    with open(source, "rb") as fh:
        data = fh.read()
    cfg = WorkerConfig(root, thumb_size, max_pixels, copy=False, known=np.zeros(0, np.uint64))
    out = Outcome(key=0, sha256=sha)
    _write_outputs(data, _decode(data, out, cfg), out, cfg, copy=False)
    return thumb_relpath(sha, out.thumb_ext)
