"""The risk score from the check stage alone: stored per item, ordered for the review queue,
counted per domain x type by `mmstudio stats --json`, kept apart from a person's decisions."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.jobs import Limits
from core.pipeline.common import StageOptions
from core.pipeline.risk import risk_score
from core.pipeline.run import run_stage
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


def test_check_stage_stores_a_risk_the_review_queue_orders_by(demo_project, scripted, lb_backend):
    db = demo_project.db
    _generated(demo_project, lb_backend)
    ordered = quality.select_by_risk(db)
    risks = quality.risk_of(db, [r.id for r in ordered])
    assert len(ordered) == 52 and all(0.0 <= risks[r.id] <= 1.0 for r in ordered)
    assert [risks[r.id] for r in ordered] == sorted(risks.values(), reverse=True)
    top = ordered[0]
    assert top.check_flags  # the riskiest item carries flags; the clean ones sit at the end
    assert not ordered[-1].check_flags and risks[ordered[-1].id] == 0.0
    ocr = quality.select_by_risk(db, domain="ocr", itypes=["long_vqa"], limit=2)
    assert len(ocr) == 2 and all(r.domain == "ocr" and r.itype == "long_vqa" for r in ocr)


def test_risk_combines_signals_as_independent_chances():
    base = dict(id=1, itype="judgement", lang="en", question="Is the sign round and blue?",
                answer="no", verify_agree=None, verify_score=None, caption_agree=None,
                caption_untellable=None, blind_score=None)  # fmt: skip
    clean = risk_score(quality.RiskInputs(check_flags=[], **base))
    one = risk_score(quality.RiskInputs(check_flags=["judgement_balance"], **base))
    two = risk_score(quality.RiskInputs(check_flags=["judgement_balance", "truncated"], **base))
    assert clean == 0.0 < one < two < 1.0
    assert two == round(1 - (1 - 0.15) * (1 - 0.8), 3)
    doubted = dict(base, caption_agree=False, verify_agree=False, verify_score=0.0)
    assert risk_score(quality.RiskInputs(check_flags=[], **doubted)) == 0.75


def test_risk_counts_in_stats_json(demo_project, scripted, lb_backend, capsys):
    _generated(demo_project, lb_backend)
    demo_project.close()
    assert main(["stats", str(demo_project.root), "--json", "--risk-threshold", "0.5"]) == 0
    out = json.loads(capsys.readouterr().out)
    risk = out["risk"]
    assert risk["threshold"] == 0.5
    ocr = risk["by_domain"]["ocr"]
    assert ocr["long_vqa"]["scored"] == 6 and ocr["long_vqa"]["above"] >= 4  # repeated, short
    assert ocr["judgement"]["above"] <= ocr["judgement"]["scored"] == 8
    assert main(["stats", str(demo_project.root), "--risk-threshold", "2"]) == 1
    assert "between 0 and 1" in capsys.readouterr().err
