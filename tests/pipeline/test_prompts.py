"""Templates: bundled per language, overridable per project and domain, hashed stably."""

from __future__ import annotations

import pytest

from core.pipeline import prompts
from core.pipeline.items import ITYPES, LANGS
from core.pipeline.prompts import (
    SLOTS,
    DomainInfo,
    Prior,
    PromptError,
    caption_prompt,
    generate_prompt,
    get_template,
    prompt_hash,
    validate_template,
)
from core.store.prompt_overrides import delete_prompt, list_prompt_overrides, set_prompt

DOM = DomainInfo("ocr", "Text in images", "Signs, labels and documents.")


def test_every_template_exists_in_both_languages_and_uses_only_its_slots():
    names = set(prompts.template_names())
    assert set(SLOTS) <= names
    for name in SLOTS:
        for lang in LANGS:
            t = get_template(None, name, lang)
            prompts.render(t)  # raises on a slot the template may not use


def test_prior_variant_carries_ocr_tags_and_title_in_the_right_language():
    prior = Prior(ocr_text="FRESH BREAD\nOPEN 7-19", tags=["bakery"], title="Corner shop")
    en = caption_prompt(None, DOM, "en", prior, min_words=80)
    assert en.name == "caption_prior"
    assert "FRESH BREAD / OPEN 7-19" in en.text and "bakery" in en.text and "Corner shop" in en.text
    zh = caption_prompt(None, DOM, "zh", prior, min_words=120)
    assert "图中识别出的文字" in zh.text and "120" in zh.text
    assert caption_prompt(None, DOM, "en", None, 80).name == "caption"


def test_domain_resource_variant_is_used_for_its_domain_only():
    ocr = caption_prompt(None, DOM, "en", None, 80)
    other = caption_prompt(
        None, DomainInfo("landmark", "Landmarks", "Famous places."), "en", None, 80
    )
    assert "transcribe every piece" in ocr.text
    assert "transcribe every piece" not in other.text
    assert get_template(None, "caption", "en", "ocr").source == "resource:ocr"


@pytest.mark.parametrize("itype", ITYPES)
@pytest.mark.parametrize("fmt", ["tagged", "json"])
def test_generate_prompt_has_caption_seeds_count_and_format(itype, fmt):
    r = generate_prompt(
        None, DOM, itype, "en", fmt, 3, "A yellow sign reads FRESH BREAD.",
        Prior(tags=["shop"]), ["Does the image contain <specific text>?"], 60,
    )  # fmt: skip
    assert "A yellow sign reads FRESH BREAD." in r.text
    assert "1. Does the image contain <specific text>?" in r.text
    assert "Tags: shop" in r.text
    assert ("<Q1>" in r.text) == (fmt == "tagged")
    assert ('{"items"' in r.text) == (fmt == "json")
    assert "{" + "n}" not in r.text and "{format}" not in r.text


def test_hash_is_stable_and_follows_the_wording():
    a = generate_prompt(None, DOM, "short_vqa", "en", "tagged", 3, "cap one", None, [], 60)
    b = generate_prompt(None, DOM, "short_vqa", "en", "tagged", 3, "other caption", None, ["s"], 60)
    assert a.hash != b.hash  # b used the seeds block template as well
    c = generate_prompt(None, DOM, "short_vqa", "en", "tagged", 5, "third", None, [], 60)
    assert a.hash == c.hash  # same templates, different image and count
    assert prompt_hash("x \r\ny") == prompt_hash("x\ny")


def test_project_overrides_win_per_domain_then_globally(project):
    db = project.db
    set_prompt(db, "caption", "en", "Global: describe {domain_title} in {min_words} words.")
    set_prompt(db, "caption", "en", "OCR only: read the text ({min_words} words).", domain="ocr")
    assert caption_prompt(db, DOM, "en", None, 50).text == "OCR only: read the text (50 words)."
    other = DomainInfo("landmark", "Landmarks", "")
    before = caption_prompt(db, other, "en", None, 50)
    assert before.text == "Global: describe Landmarks in 50 words."
    assert get_template(db, "caption", "en", "ocr").source == "project:ocr"
    assert len(list_prompt_overrides(db)) == 2
    assert delete_prompt(db, "caption", "en", "ocr")
    assert caption_prompt(db, DOM, "en", None, 50).text.startswith("Global")


def test_a_bad_override_fails_before_any_request(project):
    with pytest.raises(PromptError, match=r"unknown slot\(s\) \{captoin\}"):
        validate_template("generate_short_vqa", "en", "Use {captoin} please")
    set_prompt(project.db, "caption", "en", "Describe {nothing}.")
    with pytest.raises(PromptError, match="allowed"):
        caption_prompt(project.db, DOM, "en", None, 50)
    with pytest.raises(PromptError, match="no prompt template"):
        get_template(None, "nonexistent", "en")
