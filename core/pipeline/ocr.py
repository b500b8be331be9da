"""Text in images: an embedded offline OCR engine, or the vision model asked to transcribe.

The embedded engine is RapidOCR (PP-OCR models run by onnxruntime). Its wheel carries the
detection, direction and recognition models, so it works offline with nothing downloaded;
it reads Chinese and English. It is an optional extra (`pip install mminstruct-studio[ocr]`)
because it brings onnxruntime and OpenCV; without it the stage says how to get it, or the
VLM engine is used instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import StudioError


class OcrUnavailable(StudioError):
    pass


@dataclass
class OcrLine:
    text: str
    score: float | None = None
    box: list[list[float]] | None = None  # four corner points, clockwise from top-left

    def to_json(self) -> dict:
        return {"text": self.text, "score": self.score, "box": self.box}


_engine = None
_engine_lock = threading.Lock()


def _rapidocr(threads: int | None):
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError:
                raise OcrUnavailable(
                    "the embedded OCR engine is not installed: pip install "
                    "'mminstruct-studio[ocr]' (rapidocr + onnxruntime), or run the ocr stage "
                    "with --ocr-engine vlm"
                ) from None
            params = {"Global.log_level": "warning"}
            if threads:
                params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
                params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
            _engine = RapidOCR(params=params)
        return _engine


def rapidocr_lines(path: Path, threads: int | None = None, min_score: float = 0.5) -> list[OcrLine]:
    from PIL import Image

    engine = _rapidocr(threads)
    # Decode with Pillow (EXIF orientation, palette and 16-bit images handled the same way as at
    # import), then hand RapidOCR an RGB array.
    import numpy as np
    from PIL import ImageOps

    with Image.open(path) as im:
        rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    result = engine(rgb[:, :, ::-1].copy())  # RapidOCR expects OpenCV's BGR order
    if result is None or not getattr(result, "txts", None):
        return []
    boxes = result.boxes.tolist() if result.boxes is not None else [None] * len(result.txts)
    lines = [
        OcrLine(t.strip(), round(float(s), 4), b)
        for t, s, b in zip(result.txts, result.scores, boxes, strict=False)
        if t.strip() and float(s) >= min_score
    ]
    return reading_order(lines)


def reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Top to bottom, then left to right within a row (rows are boxes whose centres are
    within half a line height of each other)."""
    boxed = [ln for ln in lines if ln.box]
    if len(boxed) != len(lines):
        return lines

    def key(ln: OcrLine):
        ys = [p[1] for p in ln.box]
        return (min(ys) + max(ys)) / 2, max(ys) - min(ys), min(p[0] for p in ln.box)

    ordered = sorted(lines, key=lambda ln: key(ln)[0])
    rows: list[list[OcrLine]] = []
    for ln in ordered:
        cy, h, _ = key(ln)
        if rows and abs(key(rows[-1][0])[0] - cy) < max(h, key(rows[-1][0])[1]) / 2:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda x: key(x)[2])]


def lines_text(lines: list[OcrLine]) -> str:
    return "\n".join(ln.text for ln in lines)


def parse_vlm_transcript(reply: str) -> list[OcrLine]:
    """The VLM engine's reply: one line per text line; NONE (or nothing) means no text."""
    text = (reply or "").strip().strip("`").strip()
    if not text or text.upper().rstrip(".") == "NONE":
        return []
    return [OcrLine(line.strip()) for line in text.splitlines() if line.strip()]


# Local engines by name; "vlm" is not here because it needs a backend (see stages_ocr).
LOCAL_ENGINES: dict[str, Callable[..., list[OcrLine]]] = {"rapidocr": rapidocr_lines}
