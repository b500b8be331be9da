"""What the importer accepts and why it refuses: formats, extensions, size limits, reason codes.

docs/import.md is the user-facing version of this file; keep the two in step.
"""

from __future__ import annotations

from PIL import features

# Pillow plugins we let parse untrusted files. A whitelist, because some plugins shell out
# (EPS runs Ghostscript) or are rarely exercised against hostile input.
_BASE_FORMATS = {
    "JPEG": "jpg",
    "MPO": "jpg",  # phones write multi-picture JPEGs; the first picture is a normal JPEG
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "BMP": "bmp",
    "TIFF": "tif",
}
FORMAT_EXT: dict[str, str] = dict(_BASE_FORMATS)
if features.check("avif"):
    FORMAT_EXT["AVIF"] = "avif"
ACCEPTED_FORMATS: tuple[str, ...] = tuple(FORMAT_EXT)
# What Image.open may try: MPO has no opener of its own, the JPEG opener returns it.
OPEN_FORMATS: tuple[str, ...] = tuple(f for f in FORMAT_EXT if f != "MPO")

# Files inside folders and zip archives are only decoded when their name has one of these
# suffixes; a path named on the command line is always decoded, whatever its name.
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".mpo", ".png", ".gif", ".webp", ".bmp", ".dib"}
    | {".tif", ".tiff"}
    | ({".avif"} if "AVIF" in FORMAT_EXT else set())
)
ARCHIVE_SUFFIXES = frozenset({".zip"})

# Operating-system litter that is neither an image nor the user's data: counted as `ignored`.
IGNORED_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "__macosx"})
IGNORED_PREFIXES = ("._",)  # AppleDouble resource forks

# Files above this are refused before being read into memory. A legal image at the pixel
# limit is at most ~540 MB as uncompressed RGB, so 1 GiB leaves room for odd encodings.
MAX_FILE_BYTES = 1 << 30

# Registry of rejection reasons: code -> what it means. Every rejected file carries one.
REASONS: dict[str, str] = {
    "not_found": "the path does not exist (or is a dangling symlink)",
    "not_a_file": "not a regular file (FIFO, socket, device)",
    "unreadable": "the file could not be read (permissions, I/O error)",
    "empty": "zero-byte file",
    "too_large": f"file larger than {MAX_FILE_BYTES} bytes",
    "unsupported_extension": "inside a folder or zip, the name has no image suffix",
    "not_an_image": "no image format recognised (text, HTML, random bytes)",
    "unsupported_format": "an image format outside the accepted list",
    "too_many_pixels": "width x height above max_image_pixels (decompression-bomb guard)",
    "truncated": "the image data ends early",
    "corrupt": "the decoder failed on damaged or malformed data",
    "out_of_memory": "decoding ran out of memory",
    "worker_crashed": "the decoder process died on this file (retried alone once)",
    "symlink_loop": "a symlink leads back into a folder being walked",
    "duplicate_dir": "a folder reached a second time through another symlink",
    "bad_archive": "the zip archive or this entry is damaged",
    "encrypted": "password-protected zip entry",
    "nested_archive": "an archive inside a zip archive (not expanded)",
}


class Reject(Exception):
    """A file refused with one of REASONS' codes, and a detail for the import's report."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail


def is_ignored_name(name: str) -> bool:
    low = name.lower()
    return low in IGNORED_NAMES or low.startswith(IGNORED_PREFIXES)
