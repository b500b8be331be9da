"""OCR results (the `ocr` table): the lines and text each engine read from an image, one
result per image and engine, the newest serving as the image's text.

The OCR stage writes them and the other stages read the text as prior knowledge for their
prompts; a table and a lifecycle of their own, apart from the captions and instructions of
core.store.pipeline.
"""

from __future__ import annotations

import json

from core.store.db import Database


def save_ocr(db: Database, image_id: int, engine: str, lines: list[dict], text: str) -> None:
    """Replace the image's OCR result from `engine`."""
    with db.tx() as cur:
        cur.execute("DELETE FROM ocr WHERE image_id = ? AND engine = ?", [image_id, engine])
        cur.execute(
            "INSERT INTO ocr (image_id, engine, lines, text) VALUES (?, ?, ?, ?)",
            [image_id, engine, json.dumps(lines, ensure_ascii=False), text],
        )


def ocr_text(db: Database, image_id: int) -> str | None:
    """The most recent OCR text of an image (any engine), or None when it has none."""
    row = db.fetchone(
        "SELECT text FROM ocr WHERE image_id = ? ORDER BY created_at DESC LIMIT 1", [image_id]
    )
    return row[0] if row else None


def ocr_lines(db: Database, image_id: int) -> list[dict]:
    row = db.fetchone(
        "SELECT lines FROM ocr WHERE image_id = ? ORDER BY created_at DESC LIMIT 1", [image_id]
    )
    return json.loads(row[0]) if row and row[0] else []


def images_with_ocr(db: Database, engine: str) -> set[int]:
    return {
        r[0] for r in db.fetchall("SELECT DISTINCT image_id FROM ocr WHERE engine = ?", [engine])
    }
