"""Default taxonomy, domain and seed editing, seed sampling, answer-format suffixes."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from core.domains import (
    ITYPES,
    LANGS,
    AnswerFormats,
    DomainError,
    SeedFormatError,
    add_domain,
    add_seed,
    answer_suffix,
    apply_answer_suffix,
    default_answer_formats,
    default_domains,
    default_seeds,
    delete_domain,
    delete_seed,
    edit_seed,
    get_domain,
    install_defaults,
    list_domains,
    list_seeds,
    load_answer_formats,
    project_answer_formats,
    rename_domain,
    reorder_domains,
    sample_seeds,
    save_answer_formats,
    set_project_answer_formats,
    update_domain,
)
from core.library.importer import import_paths
from core.store.stats import library_stats
from tests.conftest import REPO


def _images(folder, n, seed=0):
    """n visibly different JPEGs (smooth random colour fields)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        rng = np.random.default_rng(seed * 100 + i)
        small = (rng.random((4, 5, 3)) * 255).astype(np.uint8)
        path = folder / f"img{i}.jpg"
        Image.fromarray(small).resize((160, 120), Image.Resampling.BICUBIC).save(path, quality=90)
        paths.append(path)
    return paths


# bundled resources ---------------------------------------------------------------------
def test_default_taxonomy_has_24_described_domains_in_order():
    specs = default_domains()
    assert len(specs) == 24
    assert [s.position for s in specs] == list(range(1, 25))
    assert len({s.name for s in specs}) == 24
    for s in specs:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", s.name)
        assert s.title and len(s.description) > 40
        assert len(s.keywords) >= 5
    # image_description is the caption stage here, not a domain (see domains.yaml)
    assert "image_description" not in {s.name for s in specs}


def test_default_seeds_cover_every_domain_type_and_language():
    names = {s.name for s in default_domains()}
    counts = Counter((d, t, lang) for d, t, lang, _ in default_seeds())
    for name in names:
        for itype in ITYPES:
            for lang in LANGS:
                assert 3 <= counts[(name, itype, lang)] <= 6, (name, itype, lang)
    assert {d for d, *_ in counts} == names
    for _, _, lang, text in default_seeds():
        assert text.count("<") == text.count(">"), text
        has_cjk = re.search(r"[\u4e00-\u9fff]", text) is not None
        assert has_cjk == (lang == "zh"), text


def test_default_seeds_are_not_copied_from_mminstruct():
    seed_dir = REPO.parent / "shared" / "mminstruct" / "all_seed"
    if not seed_dir.is_dir():
        pytest.skip(f"MMInstruct seed files not present at {seed_dir}")
    theirs = set()
    for path in seed_dir.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        for group in (json.loads(text) if text.strip() else {}).values():
            for texts in group.values():
                theirs.update(t.strip().lower() for t in texts)
    ours = {t.lower() for *_, t in default_seeds()}
    assert not ours & theirs


def test_install_defaults_is_idempotent_and_keeps_user_edits(project):
    db = project.db
    first = install_defaults(db)
    assert first == {"domains_added": 24, "seeds_added": len(set(default_seeds()))}
    update_domain(db, "ocr", title="Reading text")
    assert install_defaults(db) == {"domains_added": 0, "seeds_added": 0}
    assert get_domain(db, "ocr").title == "Reading text"
    assert len(list_seeds(db)) == first["seeds_added"]
    assert all(s.source == "builtin" for s in list_seeds(db))


def test_init_command_installs_defaults(tmp_path):
    from core.cli import main
    from core.project import Project

    assert main(["init", str(tmp_path / "p")]) == 0
    with Project.open(tmp_path / "p") as p:
        assert len(list_domains(p.db)) == 24


# domains -------------------------------------------------------------------------------
def test_add_update_and_validate_domains(project):
    db = project.db
    install_defaults(db)
    row = add_domain(db, "street_food", description=" Stalls ", keywords="noodles, , market")
    assert (row.title, row.description, row.keywords, row.position) == (
        "Street food",
        "Stalls",
        ["noodles", "market"],
        25,
    )
    with pytest.raises(DomainError, match="already exists"):
        add_domain(db, "street_food")
    for bad in ("Street Food", "1abc", "", "a-b", "x" * 65):
        with pytest.raises(DomainError, match="invalid domain name"):
            add_domain(db, bad)
    row = update_domain(db, "street_food", keywords=["satay"], title="Hawker food")
    assert (row.title, row.keywords, row.description) == ("Hawker food", ["satay"], "Stalls")
    with pytest.raises(DomainError, match="no domain named"):
        update_domain(db, "missing", title="x")
    with pytest.raises(DomainError, match="empty"):
        update_domain(db, "street_food", title="  ")


def test_rename_moves_images_and_seeds(project, tmp_path):
    db = project.db
    install_defaults(db)
    import_paths(project, _images(tmp_path / "in", 3), domain="landmark", workers=0)
    n_seeds = get_domain(db, "landmark").seeds
    moved = rename_domain(db, "landmark", "famous_places")
    assert moved["images"] == 3 and moved["seeds"] == n_seeds
    row = get_domain(db, "famous_places")
    assert (row.images, row.seeds, row.title, row.position) == (3, n_seeds, "Landmarks", 17)
    assert "landmark" not in {d.name for d in list_domains(db)}
    assert library_stats(db)["by_domain"]["famous_places"]["images"] == 3
    with pytest.raises(DomainError, match="already exists"):
        rename_domain(db, "famous_places", "ocr")
    with pytest.raises(DomainError, match="invalid domain name"):
        rename_domain(db, "famous_places", "Bad Name")
    assert get_domain(db, "famous_places").images == 3  # refused renames change nothing


def test_delete_refuses_domain_with_images_unless_reassigned_or_forced(project, tmp_path):
    db = project.db
    install_defaults(db)
    import_paths(project, _images(tmp_path / "a", 2, seed=1), domain="artwork", workers=0)
    import_paths(project, _images(tmp_path / "b", 1, seed=2), domain="writing", workers=0)
    with pytest.raises(DomainError, match="has 2 image"):
        delete_domain(db, "artwork")
    assert get_domain(db, "artwork").images == 2
    with pytest.raises(DomainError, match="no domain named"):
        delete_domain(db, "artwork", reassign_to="nowhere")
    with pytest.raises(DomainError, match="being deleted"):
        delete_domain(db, "artwork", reassign_to="artwork")

    counts = delete_domain(db, "artwork", reassign_to="image_style")
    assert counts["images_moved"] == 2 and counts["seeds_deleted"] > 0
    assert get_domain(db, "image_style").images == 2
    assert list_seeds(db, domain="image_style")  # the target keeps its own seeds
    counts = delete_domain(db, "writing", force=True)
    assert counts["images_moved"] == 1
    stats = library_stats(db)
    assert stats["images"] == 3 and stats["by_domain"][""]["images"] == 1
    assert delete_domain(db, "posters")["images_moved"] == 0  # empty domains go freely
    assert not any(s.domain in {"artwork", "writing", "posters"} for s in list_seeds(db))


def test_reorder_domains(project):
    db = project.db
    install_defaults(db)
    names = [d.name for d in list_domains(db)]
    wanted = list(reversed(names))
    rows = reorder_domains(db, wanted)
    assert [r.name for r in rows] == wanted
    assert [r.position for r in rows] == list(range(1, 25))
    with pytest.raises(DomainError, match="missing: \\['image_style'\\]"):
        reorder_domains(db, wanted[:-1])
    with pytest.raises(DomainError, match="unknown: \\['zzz'\\]"):
        reorder_domains(db, [*wanted, "zzz"])
    with pytest.raises(DomainError, match="exactly once"):
        reorder_domains(db, [*wanted[:-1], wanted[0]])
    assert [d.name for d in list_domains(db)] == wanted


# seeds ---------------------------------------------------------------------------------
def test_seed_crud_and_validation(project):
    db = project.db
    install_defaults(db)
    seed = add_seed(db, "ocr", "short_vqa", "en", "  What does the sign on the <object> say?  ")
    assert seed.text == "What does the sign on the <object> say?" and seed.source == "user"
    with pytest.raises(DomainError, match="already exists"):
        add_seed(db, "ocr", "short_vqa", "en", "What does the sign on the <object> say?")
    with pytest.raises(DomainError, match="unknown instruction type"):
        add_seed(db, "ocr", "essay", "en", "x")
    with pytest.raises(DomainError, match="unknown language"):
        add_seed(db, "ocr", "short_vqa", "fr", "x")
    with pytest.raises(DomainError, match="empty"):
        add_seed(db, "ocr", "short_vqa", "en", "   ")
    with pytest.raises(DomainError, match="no domain named"):
        add_seed(db, "nope", "short_vqa", "en", "x")

    edited = edit_seed(db, seed.id, text="Read the sign.", itype="long_vqa", domain="posters")
    assert (edited.id, edited.domain, edited.itype, edited.text) == (
        seed.id,
        "posters",
        "long_vqa",
        "Read the sign.",
    )
    clash = list_seeds(db, "posters", "long_vqa", "en")[0]
    with pytest.raises(DomainError, match="already exists"):
        edit_seed(db, seed.id, text=clash.text)
    assert edit_seed(db, seed.id, text="Read the sign.").text == "Read the sign."  # no-op edit

    delete_seed(db, seed.id)
    with pytest.raises(DomainError, match="no seed"):
        delete_seed(db, seed.id)
    assert all(s.id != seed.id for s in list_seeds(db))


def test_list_seeds_filters(project):
    db = project.db
    install_defaults(db)
    zh = list_seeds(db, domain="ocr", itype="judgement", lang="zh")
    assert zh and all((s.domain, s.itype, s.lang) == ("ocr", "judgement", "zh") for s in zh)
    everything = list_seeds(db)
    assert len(list_seeds(db, lang="en")) + len(list_seeds(db, lang="zh")) == len(everything)
    assert everything[0].domain == "image_style"  # domain display order first
    with pytest.raises(DomainError):
        list_seeds(db, itype="essay")


def test_sample_seeds_is_reproducible_and_bounded(project):
    db = project.db
    install_defaults(db)
    pool = list_seeds(db, "species_recognition", "multiple_choice", "en")
    a = sample_seeds(db, "species_recognition", "multiple_choice", "en", 2, random.Random(7))
    b = sample_seeds(db, "species_recognition", "multiple_choice", "en", 2, random.Random(7))
    assert a == b and len(a) == 2 and len({s.id for s in a}) == 2
    assert all(s in pool for s in a)
    draws = {
        tuple(s.id for s in sample_seeds(db, "species_recognition", "multiple_choice", "en", 2, r))
        for r in range(30)
    }
    assert len(draws) > 1  # different seeds, different draws
    everything = sample_seeds(db, "species_recognition", "multiple_choice", "en", 50, 3)
    assert sorted(s.id for s in everything) == sorted(s.id for s in pool)
    assert sample_seeds(db, "species_recognition", "multiple_choice", "en", 0, 1) == []
    add_domain(db, "empty_one")
    assert sample_seeds(db, "empty_one", "judgement", "en", 3, 1) == []
    with pytest.raises(DomainError):
        sample_seeds(db, "species_recognition", "judgement", "de", 1, 1)


# answer formats ------------------------------------------------------------------------
def test_default_answer_formats_are_complete_with_variants():
    formats = default_answer_formats()
    assert formats.is_complete()
    for itype in ITYPES:
        for lang in LANGS:
            assert len(formats.variants(itype, lang)) >= 3


def test_answer_suffix_is_stable_across_processes_and_spreads_over_variants():
    keys = [f"image{i}:q{j}" for i in range(40) for j in range(5)]
    here = [answer_suffix("judgement", "en", k) for k in keys]
    assert here == [answer_suffix("judgement", "en", k) for k in keys]
    code = (
        "import json, sys; from core.domains import answer_suffix; "
        "keys = json.load(sys.stdin); "
        "print(json.dumps([answer_suffix('judgement', 'en', k) for k in keys]))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(keys),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert json.loads(other.stdout) == here
    assert set(here) == set(default_answer_formats().variants("judgement", "en"))


def test_apply_answer_suffix_joins_per_language():
    en = apply_answer_suffix("Is this a cat? ", "judgement", "en", "k1")
    suffix = answer_suffix("judgement", "en", "k1")
    assert en == f"Is this a cat? {suffix}"
    assert apply_answer_suffix(en, "judgement", "en", "k1") == en  # applying twice adds nothing
    zh = apply_answer_suffix("这是猫吗？", "judgement", "zh", "k1")
    assert zh == "这是猫吗？" + answer_suffix("judgement", "zh", "k1")


def test_answer_formats_file_round_trip_and_errors(tmp_path):
    formats = AnswerFormats({"judgement": {"en": [" Say yes or no. ", "Say yes or no.", "Y/N?"]}})
    assert formats.variants("judgement", "en") == ["Say yes or no.", "Y/N?"]
    path = save_answer_formats(formats, tmp_path / "mine.yaml")
    assert load_answer_formats(path) == formats
    with pytest.raises(DomainError, match="no answer formats for long_vqa/zh"):
        formats.suffix("long_vqa", "zh", "k")
    bad = tmp_path / "bad.yaml"
    bad.write_text("formats:\n  essay:\n    en: [x]\n", encoding="utf-8")
    with pytest.raises(SeedFormatError, match="bad.yaml: unknown instruction type 'essay'"):
        load_answer_formats(bad)
    bad.write_text("formats:\n  judgement:\n    en: ['  ']\n", encoding="utf-8")
    with pytest.raises(SeedFormatError, match="no non-empty variant"):
        load_answer_formats(bad)
    bad.write_text("something: [1]\n", encoding="utf-8")
    with pytest.raises(SeedFormatError, match="not an answer-format file"):
        load_answer_formats(bad)
    broken = tmp_path / "broken.json"
    broken.write_text('{"formats": ', encoding="utf-8")
    with pytest.raises(SeedFormatError, match="broken.json: not valid json"):
        load_answer_formats(broken)


def test_project_answer_formats_override_and_fall_back(project):
    db = project.db
    assert project_answer_formats(db) == default_answer_formats()
    set_project_answer_formats(db, AnswerFormats({"short_vqa": {"en": ["One word only."]}}))
    formats = project_answer_formats(db)
    assert formats.suffix("short_vqa", "en", "any") == "One word only."
    assert formats.variants("long_vqa", "zh") == default_answer_formats().variants("long_vqa", "zh")
    set_project_answer_formats(db, None)
    assert project_answer_formats(db) == default_answer_formats()
