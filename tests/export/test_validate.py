import json

import pytest

from core.cli import main
from core.export.validate import validate_path
from core.export.writer import ExportOptions, export_project


@pytest.fixture
def exported(proj, tmp_path):
    out = {}
    for fmt in ("llava", "sharegpt", "trl", "hf"):
        out[fmt] = tmp_path / fmt
        export_project(proj, out[fmt], ExportOptions(fmt, val_fraction=0.2))
    return out


def test_own_exports_are_valid(exported):
    for fmt, folder in exported.items():
        report = validate_path(folder)
        assert report.ok, report.describe()
        assert report.format == fmt and report.records == 49


def _rewrite(path, edit):
    recs = json.loads(path.read_text())
    edit(recs)
    path.write_text(json.dumps(recs, ensure_ascii=False))


def test_llava_problems_are_found(exported):
    folder = exported["llava"]

    def edit(recs):
        recs[0]["conversations"][0]["value"] = recs[0]["conversations"][0]["value"].replace(
            "<image>\n", ""
        )
        recs[1]["conversations"].reverse()
        recs[2]["conversations"][1]["value"] = "  "
        recs[3]["image"] = "zz/missing.png"
        recs[4]["conversations"] = recs[4]["conversations"][:1]
        recs[5]["conversations"][0]["from"] = "bot"

    _rewrite(folder / "train.json", edit)
    report = validate_path(folder / "train.json", "llava", image_folder=folder / "images")
    codes = {}
    for p in report.problems:
        codes.setdefault(p["record"], set()).add(p["code"])
    assert codes == {
        0: {"image_token_mismatch"},
        1: {"role_order", "unpaired_turn"},  # gpt first, human last
        2: {"empty_turn"},
        3: {"missing_image"},
        4: {"unpaired_turn"},
        5: {"bad_role"},
    }
    assert not report.ok


def test_sharegpt_token_mismatch_and_manifest_checksum(exported):
    folder = exported["sharegpt"]

    def edit(recs):
        recs[0]["images"].append(recs[0]["images"][0])

    _rewrite(folder / "val.json", edit)
    report = validate_path(folder)
    assert report.by_code["image_token_mismatch"] == 1
    assert report.by_code["checksum_mismatch"] == 1  # val.json no longer matches manifest.json


def test_trl_bad_part_and_bad_json(exported):
    path = exported["trl"] / "train.jsonl"
    lines = path.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["messages"][0]["content"][0] = {"type": "video"}
    lines[0] = json.dumps(rec)
    lines[3] = lines[3][:-5]
    path.write_text("\n".join(lines) + "\n")
    report = validate_path(path, "trl")
    assert report.by_code["bad_record"] == 1
    assert report.by_code["bad_json"] == 1
    bad = next(p for p in report.problems if p["code"] == "bad_json")
    assert "line 4" in bad["message"]


def test_cli_exit_codes_and_json(exported, capsys):
    assert main(["validate", str(exported["llava"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["records"] == 49 and out["format"] == "llava"
    assert set(out) == {"path", "format", "files", "records", "errors", "by_code", "problems", "ok",
                        "special_tokens"}  # fmt: skip
    assert out["special_tokens"]["by_token"] == {}
    bad = exported["llava"] / "bad.json"
    bad.write_text('[{"id": 1, "image": "x.png", "conversations": [}]')
    assert main(["validate", str(bad), "--format", "llava"]) == 1
    text = capsys.readouterr().out
    assert "bad_json" in text and "INVALID" in text
