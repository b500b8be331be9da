"""mmstudio captions import: every key kind, the ShareGPT4V and MMInstruct shapes, versions
never overwritten, unmatched rows reported, all or nothing."""

from __future__ import annotations

import csv
import json

import pytest

from core.cli import main
from core.export.captions import import_captions
from core.export.errors import ExportError
from core.library.importer import import_paths
from core.project import Project
from tests.export.hostile import odd_images


@pytest.fixture
def proj(tmp_path):
    files = odd_images(tmp_path / "coco" / "train2017")
    p = Project.create(tmp_path / "p", name="cap")
    import_paths(p, [tmp_path / "coco"], workers=0, near_threshold=0)
    p.db.execute(
        "INSERT INTO captions (image_id, version, text, lang, model) "
        "SELECT id, 1, 'old caption', 'en', 'm0' FROM images"
    )
    ids = {
        name: p.db.scalar(
            "SELECT image_id FROM image_sources WHERE path LIKE ?", [f"%/{path.name}"]
        )
        for name, path in files.items()
    }
    yield p, ids, files
    p.close()


def _current(p, image_id, lang="en"):
    return p.db.fetchall(
        "SELECT version, text, model, origin, source FROM captions "
        "WHERE image_id = ? AND lang = ? AND is_current",
        [image_id, lang],
    )


def test_jsonl_rows_keyed_every_way_become_new_versions(proj, tmp_path):
    p, ids, files = proj
    sha = p.db.scalar("SELECT sha256 FROM images WHERE id = ?", [ids["cmyk"]])
    rows = [
        {"image_id": ids["gray16"], "caption": "A grey ramp.", "model": "gpt-4v"},
        {"sha256": sha, "caption": "Two coloured blocks."},
        {"image": "train2017/rgba.png", "caption": "一个半透明的黄色方块。"},
        {"file_name": "plain.jpg", "text": "A green field with a white square.", "lang": "en"},
        {"image": "nowhere/missing.png", "caption": "Not in the project."},
    ]
    f = tmp_path / "caps.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    s = import_captions(p, f, model="my-captioner")
    assert (s.rows, s.imported, s.images, s.unmatched) == (5, 4, 4, 1)
    assert s.samples == [{"row": 5, "key": "nowhere/missing.png", "reason": "no image matches"}]
    assert s.by_lang == {"en": 3, "zh": 1}
    assert _current(p, ids["gray16"]) == [(2, "A grey ramp.", "gpt-4v", "imported", "caps.jsonl:1")]
    assert _current(p, ids["cmyk"])[0][2] == "my-captioner"
    assert _current(p, ids["rgba"], "zh")[0][1] == "一个半透明的黄色方块。"
    assert _current(p, ids["rgba"])[0][1] == "old caption"  # another language: untouched
    # never overwritten: the old caption is still there as version 1
    assert p.db.fetchall(
        "SELECT version, text, is_current FROM captions WHERE image_id = ? ORDER BY version",
        [ids["gray16"]],
    ) == [(1, "old caption", False), (2, "A grey ramp.", True)]


def test_sharegpt4v_and_mminstruct_shapes(proj, tmp_path):
    p, ids, _ = proj
    share = [
        {
            "id": "000000000009",
            "image": "coco/train2017/animated.gif",
            "conversations": [
                {"from": "human", "value": "<image>\nWhat do you see happening in this image?"},
                {"from": "gpt", "value": "An orange square with a black corner."},
            ],
        }
    ]
    (tmp_path / "share.json").write_text(json.dumps(share), encoding="utf-8")
    s = import_captions(p, tmp_path / "share.json", model="ShareCaptioner")
    assert s.imported == 1 and _current(p, ids["animated"])[0][1:3] == (
        "An orange square with a black corner.",
        "ShareCaptioner",
    )
    engine = {"image_path": "exif_rotated.jpg", "text": [], "gpt4v_caption_interface": "红蓝相间。"}
    (tmp_path / "poster_caption.jsonl").write_text(json.dumps(engine, ensure_ascii=False))
    s = import_captions(p, tmp_path / "poster_caption.jsonl", model="gpt-4-vision-preview")
    assert s.imported == 1 and _current(p, ids["exif_rotated"], "zh")[0][1] == "红蓝相间。"


def test_the_mminstruct_gpt4v_release_caption_files(proj, tmp_path):
    """The release's own layout: JSON Lines of {image, conversations} with no language or
    domain on the row; `_cn` / `_en` in the file name says the language."""
    p, ids, files = proj

    def line(name: str, caption: str, zh: bool = True) -> str:
        prompt = "<image>\n请尽可能详细描述这幅图像。" if zh else "<image>\nDescribe the image."
        return json.dumps({"image": f"caption_images/ocr/{files[name].name}", "conversations": [
            {"from": "human", "value": prompt}, {"from": "gpt", "value": caption}]},
            ensure_ascii=False)  # fmt: skip

    (tmp_path / "jsons_all").mkdir()
    cn = tmp_path / "jsons_all" / "caption_cn.jsonl"
    # "Blue" is short and Latin: without the file name it would be guessed English
    cn.write_text(line("gray16", "Blue 色的渐变。") + "\n" + line("cmyk", "一块青色。") + "\n",
                  encoding="utf-8")  # fmt: skip
    s = import_captions(p, cn, model="gpt-4-vision-preview")
    assert (s.imported, s.unmatched) == (2, 0)
    assert _current(p, ids["gray16"], "zh")[0][1:4] == ("Blue 色的渐变。", "gpt-4-vision-preview",
                                                       "imported")  # fmt: skip
    assert _current(p, ids["cmyk"], "zh")[0][1] == "一块青色。"
    assert _current(p, ids["gray16"], "en")[0][1] == "old caption"  # untouched
    per_domain = tmp_path / "ocr_en.jsonl"
    per_domain.write_text(
        line("palette_alpha", "A palette image.", zh=False) + "\n", encoding="utf-8"
    )
    assert import_captions(p, per_domain).imported == 1
    assert _current(p, ids["palette_alpha"])[0][1] == "A palette image."


def test_csv_and_a_bad_row_leaves_nothing_behind(proj, tmp_path):
    p, ids, _ = proj
    before = p.db.scalar("SELECT count(*) FROM captions")
    f = tmp_path / "caps.csv"
    with open(f, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(["file_name", "caption", "lang"])
        w.writerow(["plain.jpg", "A green field.", "en"])
        w.writerow(["cmyk.jpg", "", "en"])  # no text
    with pytest.raises(ExportError, match="row 3 has no caption text"):
        import_captions(p, f)
    assert p.db.scalar("SELECT count(*) FROM captions") == before
    with pytest.raises(ExportError, match="language 'fr'"):
        f.write_text("file_name,caption,lang\nplain.jpg,Un champ.,fr\n", encoding="utf-8")
        import_captions(p, f)
    f.write_text("file_name,caption\nplain.jpg,A field.\nnone.jpg,Nothing.\n", encoding="utf-8")
    with pytest.raises(ExportError, match="1 of 2 rows match no single image.*nothing imported"):
        import_captions(p, f, require_all=True)
    assert p.db.scalar("SELECT count(*) FROM captions") == before
    assert import_captions(p, f).imported == 1


def test_cli(proj, tmp_path, capsys):
    p, ids, _ = proj
    root = p.root
    p.close()
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"plain.jpg": "A field.", "gone.png": "x"}), encoding="utf-8")
    assert main(["captions", "import", str(root), str(f), "--json", "--model", "m"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["imported"] == 1 and got["unmatched"] == 1 and got["unmatched_rows"][0]["row"] == 2
    assert main(["captions", "import", str(root), str(tmp_path / "nope.jsonl")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_the_gui_dialog_imports_through_core(qtbot, proj, tmp_path):
    from desktop.views.caption_import import CaptionImportDialog

    p, ids, _ = proj
    f = tmp_path / "c.jsonl"
    f.write_text(
        json.dumps({"file_name": "plain.jpg", "caption": "一片绿色的田野。"}), encoding="utf-8"
    )
    dialog = CaptionImportDialog(p)
    qtbot.addWidget(dialog)
    dialog.file.setText(str(f))
    dialog.model.setText("qwen-vl")
    with qtbot.waitSignal(dialog.imported, timeout=30000):
        dialog.run_button.click()
    assert dialog.summary.imported == 1 and "Imported 1 captions" in dialog.status.text()
    assert _current(p, ids["plain"], "zh")[0][1:4] == ("一片绿色的田野。", "qwen-vl", "imported")
