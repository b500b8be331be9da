"""The embedded OCR engine on rendered text (English and Chinese), and the VLM engine."""

from __future__ import annotations

import pytest

from core.pipeline.common import StageOptions
from core.pipeline.ocr import OcrLine, parse_vlm_transcript, reading_order
from core.pipeline.run import run_stage
from core.store import ocr as ocr_store
from core.store import pipeline as sp
from tests.pipeline.conftest import sign_image
from tests.pipeline.scripted import reply

pytest.importorskip("rapidocr")


def _squash(text: str) -> str:
    return "".join(text.split()).upper()


def test_rapidocr_reads_english_and_chinese_lines_in_order(tmp_path):
    from core.pipeline.ocr import rapidocr_lines

    path = sign_image(tmp_path / "s.png", ["OPEN DAILY 9-5", "出口 EXIT"], "white", cjk=True,
                      size=(640, 220))  # fmt: skip
    lines = rapidocr_lines(path, threads=1)
    text = [_squash(ln.text) for ln in lines]
    assert text[0] == "OPENDAILY9-5"
    assert "出口" in text[1] and "EXIT" in text[1]
    assert all(ln.score > 0.5 and len(ln.box) == 4 for ln in lines)


def test_blank_image_has_no_lines(tmp_path):
    from PIL import Image

    from core.pipeline.ocr import rapidocr_lines

    Image.new("RGB", (300, 200), "white").save(tmp_path / "blank.png")
    assert rapidocr_lines(tmp_path / "blank.png", threads=1) == []


def test_ocr_stage_stores_lines_and_skips_done_images(demo_project):
    first = run_stage(demo_project, "ocr", StageOptions(threads=1)).to_json()
    assert first["images"] == 4 and first["with_text"] == 4 and not first["failed"]
    texts = [
        ocr_store.ocr_text(demo_project.db, img.id) for img in sp.select_images(demo_project.db)
    ]
    assert any("FRESH BREAD" in t for t in texts) and any("JAZZ" in t for t in texts)
    again = run_stage(demo_project, "ocr", StageOptions(threads=1)).to_json()
    assert again["images"] == 0 and again["skipped"] == 4


def test_missing_file_is_reported_not_fatal(demo_project):
    img = sp.select_images(demo_project.db)[0]
    demo_project.resolve_media(img.storage, img.path).unlink()
    result = run_stage(demo_project, "ocr", StageOptions(threads=1)).to_json()
    assert result["failed"][0]["image_id"] == img.id and result["with_text"] == 3


def test_vlm_engine_through_a_backend(demo_project, loopback, lb_backend):
    loopback.reply = reply
    result = run_stage(
        demo_project, "ocr", StageOptions(ocr_engine="vlm", domain="ocr"), lb_backend
    ).to_json()
    assert (result["done"], result["failed"]) == (2, 0)
    image = sp.select_images(demo_project.db, domain="ocr")[0].id
    assert ocr_store.ocr_lines(demo_project.db, image) == [
        {"text": "FRESH BREAD", "score": None, "box": None},
        {"text": "OPEN 7-19", "score": None, "box": None},
    ]


def test_vlm_transcript_and_reading_order():
    assert parse_vlm_transcript("NONE.") == []
    assert [ln.text for ln in parse_vlm_transcript("```\nA\n\nB\n```")] == ["A", "B"]
    right = OcrLine("right", 0.9, [[200, 10], [260, 10], [260, 40], [200, 40]])
    left = OcrLine("left", 0.9, [[10, 14], [80, 14], [80, 44], [10, 44]])
    below = OcrLine("below", 0.9, [[10, 80], [80, 80], [80, 110], [10, 110]])
    assert [ln.text for ln in reading_order([below, right, left])] == ["left", "right", "below"]
