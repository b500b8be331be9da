"""Image files for import tests, built here with Pillow and raw bytes (no binary fixtures)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def photo(seed: int, size=(320, 240)) -> Image.Image:
    """A smooth, photo-like RGB picture; different seeds give perceptually different images."""
    rng = np.random.default_rng(seed)
    small = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def save(img: Image.Image, path: Path, fmt: str | None = None, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, fmt, **kw)
    return path


def jpeg_bytes(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_bytes(width: int, height: int, bit_depth: int, color_type: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def png_bomb(side: int = 20_000) -> bytes:
    """A real decompression bomb: a 1-bit black PNG of side x side pixels in a few tens of KB."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    parts = [comp.compress(row) for _ in range(side)]
    parts.append(comp.flush())
    return png_bytes(side, side, 1, 0, b"".join(parts))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims an enormous size and carries almost no data."""
    return png_bytes(width, height, 8, 2, zlib.compress(b"\x00" * 16))


def exif_with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def mark_encrypted(archive: Path, name: str) -> None:
    """Set the "encrypted" flag of one entry (zipfile cannot write encrypted archives)."""
    import zipfile

    raw = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(name)
    raw[info.header_offset + 6] |= 0x1  # local file header: general purpose flags
    encoded = name.encode()
    at = 0
    while (at := raw.find(b"PK\x01\x02", at)) >= 0:  # central directory records
        name_len = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + name_len] == encoded:
            raw[at + 8] |= 0x1
        at += 4
    archive.write_bytes(bytes(raw))
