"""Safe text at export: the token table, the reversible escape, the three --unsafe-text
modes, the manifest and --json counts, the round trip, validate and the check rule."""

from __future__ import annotations

import json
import random

import duckdb
import pytest

from core.cli import main
from core.export import safetext
from core.export.errors import ExportError
from core.export.importer import import_data
from core.export.readers import iter_conversations
from core.export.validate import validate_path
from core.export.writer import ExportOptions, export_project
from core.pipeline.checks import run_checks
from core.pipeline.items import Item
from core.project import Project
from tests.export.hostile import HOSTILE, TOKENS_NAMED, hostile_project

FORMATS = ["llava", "sharegpt", "hf", "trl", "internvl", "webdataset"]


def test_every_named_token_is_in_the_one_table_and_escapes_reversibly():
    for tok in TOKENS_NAMED:
        assert safetext.find(f"x {tok} y") == [safetext.BY_TEXT[tok]]
        escaped = safetext.escape(f"x {tok} y")
        assert safetext.find(escaped) == [] and tok not in escaped
        assert safetext.unescape(escaped) == f"x {tok} y"
    # line-start role markers only where a turn would begin
    assert safetext.find("User: hi") and not safetext.find("the User: field")


def test_escape_is_a_bijection_even_on_text_that_already_holds_the_escape():
    rng = random.Random(3)
    pieces = ["<", "image", ">", safetext.JOINER, "/s", "USER", ":", "\n", " ", "User", "|"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        escaped = safetext.escape(text)
        assert safetext.unescape(escaped) == text
        assert safetext.find(escaped) == []


def test_duckdb_finds_exactly_the_texts_python_would_change():
    con = duckdb.connect()
    texts = [q for _, _, q, _, _ in HOSTILE] + [a for *_, a in HOSTILE]
    texts += ["a clean question?", "User: at line start", "not a User: here", "<\u2060image>"]
    got = [
        con.execute("SELECT regexp_matches(?, ?)", [t, safetext.sql_pattern()]).fetchone()[0]
        for t in texts
    ]
    assert got == [safetext.escape(t) != t for t in texts]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_writer_escapes_and_the_import_restores_the_text(tmp_path, fmt):
    with hostile_project(tmp_path / "p") as p:
        res = export_project(p, tmp_path / "out", ExportOptions(fmt))
    unsafe = res.manifest["unsafe_text"]
    assert unsafe["mode"] == "escape" and unsafe["escape"] == safetext.SCHEME
    assert unsafe["items"] == len(HOSTILE)
    assert set(TOKENS_NAMED) <= set(unsafe["by_token"])
    assert unsafe["by_token"]["<image>"] == 3 and unsafe["by_kind"]["role_marker"] == 5
    assert res.to_json()["unsafe_text"] == unsafe
    # what a trainer reads: one <image> per image, no other template token anywhere
    convs = list(iter_conversations(tmp_path / "out", cache_dir=tmp_path / "cache"))
    for conv in convs:
        text = "\n".join(m["content"] for m in conv.messages)
        assert text.count("<image>") == len(conv.images) == 1
        assert [t for t in safetext.find(text) if t.text != "<image>"] == []
    assert validate_path(tmp_path / "out").ok
    with Project.create(tmp_path / "fresh") as fresh:
        import_data(fresh, tmp_path / "out", workers=0)
        rows = fresh.db.fetchall(
            "SELECT itype, lang, question, options, answer FROM instructions "
            "WHERE question IN (SELECT unnest(?))",
            [[q for _, _, q, _, _ in HOSTILE]],
        )
    assert sorted(rows, key=str) == sorted(
        [(t, lg, q, o, a) for t, lg, q, o, a in HOSTILE], key=str
    )


def test_skip_drops_the_records_and_fail_refuses(tmp_path):
    with hostile_project(tmp_path / "p") as p:
        clean = export_project(p, tmp_path / "all", ExportOptions("llava"))
        res = export_project(p, tmp_path / "skip", ExportOptions("llava", unsafe_text="skip"))
        with pytest.raises(ExportError, match="8 selected item.*--unsafe-text"):
            export_project(p, tmp_path / "fail", ExportOptions("llava", unsafe_text="fail"))
        with pytest.raises(ExportError, match="unknown --unsafe-text"):
            export_project(p, tmp_path / "bad", ExportOptions("llava", unsafe_text="nope"))
    c, s = clean.manifest["counts"], res.manifest["counts"]
    assert res.manifest["unsafe_text"]["records_skipped"] == 8
    assert s["instructions"] == c["instructions"] - 8 and s["images"] == c["images"] - 1
    assert not (tmp_path / "fail").exists()
    for conv in iter_conversations(tmp_path / "skip"):
        text = "\n".join(m["content"] for m in conv.messages).replace("<image>", "", 1)
        assert safetext.find(text) == [] and safetext.JOINER not in text


def test_cli_mode_and_json_summary(tmp_path, capsys):
    hostile_project(tmp_path / "p").close()
    out = tmp_path / "o"
    args = ["export", str(tmp_path / "p"), "--format", "trl", "--out", str(out)]
    assert main([*args, "--unsafe-text", "fail"]) == 1
    assert "chat-template tokens" in capsys.readouterr().err
    assert main([*args, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["unsafe_text"]["items"] == 8 and got["unsafe_text"]["by_kind"] == {
        "image_placeholder": 4,
        "role_marker": 5,
        "special_token": 10,
    }


def test_validate_reports_tokens_per_template_family_in_a_third_party_file(tmp_path):
    from PIL import Image

    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    rec = {
        "image": "a.png",
        "conversations": [
            {"from": "human", "value": "<image>\nUSER: what is it?"},
            {"from": "gpt", "value": "A cat.</s><|eot_id|> <|im_end|>"},
        ],
    }
    (tmp_path / "d.json").write_text(json.dumps([rec]), encoding="utf-8")
    report = validate_path(tmp_path / "d.json")
    assert not report.ok
    assert report.by_code == {"role_marker": 1, "special_token": 1}
    fams = report.to_json()["special_tokens"]["by_family"]
    assert fams["llama3"] == {"<|eot_id|>": 1} and fams["chatml"] == {"<|im_end|>": 1}
    assert fams["vicuna"] == {"</s>": 1, "USER:": 1}
    assert "template llama3: <|eot_id|> x1" in report.describe()


def test_the_check_stage_flags_such_items():
    item = Item("short_vqa", "en", "What is printed?", "done</s>")
    names = {f.name for f in run_checks([item])[0]}
    assert "special_token" in names
    clean = Item("short_vqa", "en", "What is printed?", "Done")
    assert "special_token" not in {f.name for f in run_checks([clean])[0]}
