"""The quality gate end to end through the loopback server: check rules -> verify against the
caption -> blind answerability -> one risk score per item, ordered and counted; the image
verify mode still works beside it, both on a selection, and both re-run from the cache."""

from __future__ import annotations

import pytest

from core.jobs import Limits
from core.pipeline.common import StageOptions
from core.pipeline.run import PipelineError, run_stage
from core.store import pipeline as sp
from core.store import quality
from tests.pipeline.scripted import LONG_CAPTION, reply


@pytest.fixture
def scripted(loopback):
    loopback.reply = reply
    return loopback


def _generated(project, backend):
    """Hand-written captions, then generate and check: 13 items on each of the 4 images."""
    for img in sp.select_images(project.db):
        sp.add_caption(project.db, img.id, LONG_CAPTION, "en", None, None, None, origin="manual")
    gen = run_stage(project, "generate", StageOptions(), backend, Limits(concurrency=4)).to_json()
    assert gen["failed"] == 0
    run_stage(project, "check", StageOptions())
    return {r.question: r for r in sp.select_instructions(project.db)}


def test_caption_verification_blind_answerability_and_risk(demo_project, scripted, lb_backend):
    project, db = demo_project, demo_project.db
    _generated(project, lb_backend)
    one = [sp.select_images(db, domain="posters")[0].id]
    limits = Limits(concurrency=4)

    ver = run_stage(project, "verify", StageOptions(against="caption", image_ids=one),
                    lb_backend, limits).to_json()  # fmt: skip
    assert ver["against"] == "caption" and ver["failed"] == 0
    assert ver["items"] == 13 and ver["cost_usd"] > 0  # every type, priced like any stage
    rows = {r.question: r for r in sp.select_instructions(db, image_ids=one)}
    detail = {q: quality.quality_detail(db, r.id) for q, r in rows.items()}
    # Exact for judgement and multiple choice, similarity for short, entailment for long.
    assert detail["Does the sign have a black border?"]["caption_agree"] is True
    assert detail["Is the sign round?"]["caption_agree"] is False
    assert "caption_disagree" in rows["Is the sign round?"].check_flags
    assert detail["What colour is the border of the sign?"]["caption_answer"] == "B"
    assert detail["How many lines of text are on the sign?"]["caption_agree"] is False
    assert detail["What is the shape of the sign?"]["caption_agree"] is True  # ~ "Rectangle"
    assert detail["What colour are the letters?"]["caption_answer"] == "Dark red"
    assert detail["Where might a sign like this be placed?"]["caption_agree"] is False
    assert detail["Describe the sign in detail."]["caption_agree"] is True
    # "cannot tell" is a flag of its own, not a disagreement.
    capital = "Is the text on the sign printed in capital letters?"
    assert detail[capital]["caption_untellable"] is True
    assert rows[capital].check_flags.count("caption_untellable") == 1
    assert "caption_disagree" not in rows[capital].check_flags
    assert rows["Is the sign round?"].status == "needs_review"
    # Only the selection was verified.
    others = sp.select_instructions(db, image_ids=[i.id for i in sp.select_images(db)
                                                   if i.id not in one])  # fmt: skip
    assert all(quality.quality_detail(db, r.id)["caption_answer"] is None for r in others)

    blind = run_stage(project, "blind", StageOptions(image_ids=one), lb_backend, limits).to_json()
    assert blind["failed"] == 0 and blind["items"] == (4 + 3) * 3  # judgement + MC, 3 trials
    rows = {r.question: r for r in sp.select_instructions(db, image_ids=one)}
    border = quality.quality_detail(db, rows["What colour is the border of the sign?"].id)
    # It finds "Black" wherever the rotation puts it: right 3 of 3, flagged, not rejected.
    assert border["blind_answers"] == ["B", "B", "B"] and border["blind_score"] == 1.0
    assert "answerable_blind" in rows["What colour is the border of the sign?"].check_flags
    lines = quality.quality_detail(db, rows["How many lines of text are on the sign?"].id)
    # "Always A" lands on a different option each trial: right once, near chance, no flag.
    assert lines["blind_answers"] == ["A", "B", "C"] and lines["blind_score"] < 0.2
    assert "answerable_blind" not in rows["How many lines of text are on the sign?"].check_flags
    assert all(r.status != "rejected" for r in rows.values())

    # One risk per item, 0-1; the riskiest first in the review order.
    ordered = quality.select_by_risk(db)
    risks = quality.risk_of(db, [r.id for r in ordered])
    values = [risks[r.id] for r in ordered]
    assert all(v is not None and 0.0 <= v <= 1.0 for v in values)
    assert values == sorted(values, reverse=True)
    clean = rows["Does the sign have a black border?"]
    assert risks[rows["Is the sign round?"].id] > risks[clean.id]
    assert risks[rows["Where might a sign like this be placed?"].id] > 0.5  # short + disagrees

    # Re-running pays for nothing: everything is already verified / scored.
    seen = scripted.stats.requests
    again = run_stage(project, "verify", StageOptions(against="caption", image_ids=one),
                      lb_backend, limits).to_json()  # fmt: skip
    assert again["items"] == 0 and again["skipped"]["already_verified"] == 13
    assert (
        run_stage(project, "blind", StageOptions(image_ids=one), lb_backend).to_json()["items"] == 0
    )
    forced = run_stage(project, "verify", StageOptions(against="caption", image_ids=one,
                                                       force=True), lb_backend, limits).to_json()  # fmt: skip
    assert forced["cached"] == 13 and scripted.stats.requests == seen

    # The image verify mode keeps working on the same selection, beside the caption verdicts.
    img = run_stage(project, "verify", StageOptions(image_ids=one), lb_backend, limits).to_json()
    assert img["failed"] == 0 and img["items"] == 10
    after = quality.quality_detail(db, rows["Is the sign round?"].id)
    assert after["image_answer"] is not None and after["caption_agree"] is False

    # Re-checking keeps the model flags; stats counts risky items per domain x type.
    run_stage(project, "check", StageOptions())
    assert (
        "caption_disagree"
        in sp.select_instructions(db, ids=[rows["Is the sign round?"].id])[0].check_flags
    )


def test_bad_verify_mode_is_a_clear_error(demo_project, lb_backend):
    with pytest.raises(PipelineError, match="unknown verify mode"):
        run_stage(demo_project, "verify", StageOptions(against="both"), lb_backend)
