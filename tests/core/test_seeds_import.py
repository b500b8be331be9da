"""The MMInstruct seed importer and end_prompt.json answer formats, on published and synthetic
files, through the API and the CLI."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from core.cli import main
from core.domains import (
    DomainError,
    SeedFormatError,
    add_seed,
    default_answer_formats,
    import_answer_formats,
    import_mminstruct_seeds,
    install_defaults,
    list_domains,
    list_seeds,
    load_answer_formats,
    project_answer_formats,
)
from tests.conftest import REPO

MMINSTRUCT = REPO.parent / "shared" / "mminstruct"
SEED_DIR = MMINSTRUCT / "all_seed"
TYPES_OF = {
    "judge": ["judgement"],
    "choice": ["multiple_choice"],
    "sentence": ["short_vqa", "long_vqa"],
}
LANG_OF = {"English": "en", "Chinese": "zh"}

needs_published = pytest.mark.skipif(
    not SEED_DIR.is_dir(),
    reason=f"published MMInstruct seed files not found at {SEED_DIR} (shared/mminstruct absent)",
)


def _expected_from_files(folder):
    """What the folder should yield, computed independently from the raw JSON."""
    keys, empty = set(), []
    for path in sorted(folder.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            empty.append(path.name)
            continue
        domain = path.stem.split("_", 1)[1]
        for key, by_lang in json.loads(text).items():
            for lang_key, texts in by_lang.items():
                for t in texts:
                    for itype in TYPES_OF[key]:
                        keys.add((domain, itype, LANG_OF[lang_key], t.strip()))
    return keys, empty


@needs_published
def test_import_published_seed_folder(project):
    db = project.db
    install_defaults(db)
    before = len(list_seeds(db))
    expected, empty = _expected_from_files(SEED_DIR)
    report = import_mminstruct_seeds(db, SEED_DIR)

    assert report.files == 25
    assert report.empty_files == empty and len(empty) == 4
    # every file maps onto a default domain except image_description (see domains.yaml)
    assert report.domains_created == ["image_description"]
    assert report.seeds_added == len(expected)
    assert sum(report.by_type.values()) == report.seeds_added
    assert report.by_type["short_vqa"] == report.by_type["long_vqa"]

    imported = [s for s in list_seeds(db) if s.source and s.source.startswith("mminstruct:")]
    assert {(s.domain, s.itype, s.lang, s.text) for s in imported} == expected
    assert len(list_seeds(db)) == before + len(expected)
    assert all(s.text == s.text.strip() for s in imported)  # trailing blanks as published go
    style = {s.text for s in imported if s.domain == "image_style" and s.lang == "en"}
    assert "What art style is showcased in this image?" in style
    for itype in ("short_vqa", "long_vqa"):  # sentence seeds serve both lengths
        assert any(
            s.itype == itype and s.text == "Identify the art style of this image." for s in imported
        )
    assert any(s.source == "mminstruct:00017_artwork.json" for s in imported)

    again = import_mminstruct_seeds(db, SEED_DIR)
    assert (again.seeds_added, again.duplicates_skipped, again.domains_created) == (
        0,
        len(expected),
        [],
    )


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def synthetic(tmp_path):
    folder = tmp_path / "seeds"
    doc = {
        "judge": {
            "English": ["Is the kite <a colour>?   ", "Is the kite <a colour>?", "  "],
            "Chinese": ["风筝是<某种颜色>的吗？"],
            "French": ["Le cerf-volant est-il rouge ?"],
        },
        "choice": {"English": ["Which kite flies highest?"]},
        "sentence": {"English": ["Describe the kites.\t"], "Chinese": []},
        "notes": "written by hand",
    }
    _write(folder, "00001_kite_flying.json", json.dumps(doc, ensure_ascii=False, indent=1))
    _write(folder, "00002_tea_ceremony.json", "")
    _write(folder, "00003_ocr.json", "{}")
    _write(
        folder, "00010_Night Markets.json", json.dumps({"choice": {"English": ["Which stall?"]}})
    )
    _write(folder, "README.txt", "not a seed file")
    return folder


def test_import_synthetic_folder(project, synthetic):
    db = project.db
    install_defaults(db)
    add_seed(db, "ocr", "judgement", "en", "Is the kite <a colour>?")  # a different domain
    report = import_mminstruct_seeds(db, synthetic)

    assert report.files == 4
    assert report.empty_files == ["00002_tea_ceremony.json"]
    assert report.domains_created == ["kite_flying", "tea_ceremony", "night_markets"]
    assert report.by_type == {"judgement": 2, "multiple_choice": 2, "short_vqa": 1, "long_vqa": 1}
    assert report.seeds_added == 6
    assert report.duplicates_skipped == 1  # the same judge text twice, once with blanks
    assert report.ignored_keys == [
        "00001_kite_flying.json: judge.French",
        "00001_kite_flying.json: notes",
    ]
    kites = list_seeds(db, domain="kite_flying")
    assert Counter(s.itype for s in kites) == {
        "judgement": 2,
        "multiple_choice": 1,
        "short_vqa": 1,
        "long_vqa": 1,
    }
    assert {s.text for s in kites if s.itype == "long_vqa"} == {"Describe the kites."}
    names = {d.name: d for d in list_domains(db)}
    assert names["tea_ceremony"].seeds == 0 and names["night_markets"].title == "Night markets"


def test_dry_run_changes_nothing(project, synthetic):
    db = project.db
    report = import_mminstruct_seeds(db, synthetic, dry_run=True)
    assert report.dry_run and report.seeds_added == 6 and len(report.domains_created) == 4
    assert list_seeds(db) == [] and list_domains(db) == []


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "00004_bad.json",
            '{"judge": {"English": ["a",]}',
            r"00004_bad.json: invalid JSON at line 1",
        ),
        ("00004_bad.json", '["judge"]', r"00004_bad.json: expected a JSON object"),
        ("00004_bad.json", '{"judge": ["a"]}', r"00004_bad.json: judge must map Chinese/English"),
        (
            "00004_bad.json",
            '{"choice": {"English": "a"}}',
            r"00004_bad.json: choice.English must be",
        ),
        ("00004_bad.json", '{"choice": {"English": [1, 2]}}', r"must be a list of strings"),
        ("00004_-.json", "{}", r"00004_-.json: cannot derive a domain name"),
    ],
)
def test_bad_file_stops_import_with_its_name_and_changes_nothing(
    project, synthetic, name, text, message
):
    db = project.db
    install_defaults(db)
    before = (len(list_seeds(db)), len(list_domains(db)))
    _write(synthetic, name, text)
    with pytest.raises(SeedFormatError, match=message):
        import_mminstruct_seeds(db, synthetic)
    assert (len(list_seeds(db)), len(list_domains(db))) == before


def test_unreadable_inputs_are_clear(project, tmp_path):
    with pytest.raises(SeedFormatError, match="no such folder"):
        import_mminstruct_seeds(project.db, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeedFormatError, match="no .json seed files"):
        import_mminstruct_seeds(project.db, tmp_path / "empty")
    latin = tmp_path / "latin" / "00001_cafe.json"
    latin.parent.mkdir()
    latin.write_bytes('{"judge": {"English": ["Caf\u00e9?"]}}'.encode("latin-1"))
    with pytest.raises(SeedFormatError, match="00001_cafe.json: not UTF-8"):
        import_mminstruct_seeds(project.db, latin.parent)
    assert isinstance(SeedFormatError("x"), DomainError)


def test_single_file_import(project, synthetic):
    report = import_mminstruct_seeds(project.db, synthetic / "00010_Night Markets.json")
    assert (report.files, report.seeds_added, report.domains_created) == (1, 1, ["night_markets"])


# answer formats from end_prompt.json ---------------------------------------------------
@needs_published
def test_import_published_end_prompts(project):
    path = MMINSTRUCT / "end_prompt.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    formats = import_answer_formats(project.db, path)
    assert formats.is_complete()
    for key, itype in (
        ("judge", "judgement"),
        ("select", "multiple_choice"),
        ("shortsentence", "short_vqa"),
        ("longsentence", "long_vqa"),
    ):
        for lang_key, lang in (("English", "en"), ("Chinese", "zh")):
            want = list(dict.fromkeys(t.strip() for t in raw[key][lang_key]))
            assert formats.variants(itype, lang) == want
    # stored in the project: a fresh read gives the same set, and suffixes come from it
    again = project_answer_formats(project.db)
    assert again == formats
    assert again.suffix("judgement", "en", "img7:q1") in [
        t.strip() for t in raw["judge"]["English"]
    ]


def test_partial_end_prompt_file_falls_back_to_defaults(project, tmp_path):
    path = tmp_path / "end_prompt.json"
    path.write_text(
        json.dumps({"judge": {"English": [" Yes or no?"]}, "extra": {"English": ["x"]}}),
        encoding="utf-8",
    )
    assert load_answer_formats(path).combinations() == [("judgement", "en")]
    formats = import_answer_formats(project.db, path)
    assert formats.suffix("judgement", "en", "anything") == "Yes or no?"
    assert formats.variants("long_vqa", "en") == default_answer_formats().variants("long_vqa", "en")
    path.write_text(json.dumps({"judge": {"English": []}}), encoding="utf-8")
    with pytest.raises(SeedFormatError, match="no answer-format variants"):
        import_answer_formats(project.db, path)
    assert project_answer_formats(project.db).suffix("judgement", "en", "x") == "Yes or no?"


# CLI -----------------------------------------------------------------------------------
def test_cli_seeds_and_domains(tmp_path, synthetic, capsys):
    proj = str(tmp_path / "p")
    assert main(["init", proj]) == 0
    capsys.readouterr()

    assert main(["seeds", "import", proj, str(synthetic), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {
        "folder",
        "files",
        "empty_files",
        "domains_created",
        "seeds_added",
        "duplicates_skipped",
        "by_type",
        "ignored_keys",
        "dry_run",
    }
    assert report["seeds_added"] == 6 and report["files"] == 4

    assert (
        main(["seeds", "list", proj, "--domain", "kite_flying", "--type", "judgement", "--json"])
        == 0
    )
    listed = json.loads(capsys.readouterr().out)
    assert listed["count"] == 2 == len(listed["seeds"])
    assert set(listed["seeds"][0]) == {"id", "domain", "itype", "lang", "text", "source"}

    assert main(["domains", "add", proj, "street_food", "--title", "Street food", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["position"] == 28
    assert main(["domains", "list", proj, "--json"]) == 0
    domains = json.loads(capsys.readouterr().out)["domains"]
    assert [d["name"] for d in domains][-4:] == [
        "kite_flying",
        "tea_ceremony",
        "night_markets",
        "street_food",
    ]
    assert set(domains[0]) == {
        "name",
        "title",
        "description",
        "keywords",
        "position",
        "images",
        "seeds",
    }
    assert main(["domains", "add", proj, "street_food"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["domains", "rename", proj, "street_food", "hawker_food", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["new"] == "hawker_food"
    assert main(["domains", "delete", proj, "hawker_food", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["deleted"] == "hawker_food"
    with pytest.raises(SystemExit):
        main(["seeds", "list", proj, "--lang", "xx"])
    assert main(["domains"]) == 2
