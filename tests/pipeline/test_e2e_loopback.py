"""The whole engine on a small real project through the loopback OpenAI server with scripted
replies: ocr -> caption (with its retry) -> generate -> check -> verify -> expand, then the
metrics, then a re-run that pays for nothing."""

from __future__ import annotations

import pytest

from core.jobs import Limits
from core.pipeline.common import StageOptions
from core.pipeline.run import PipelineError, dry_run, run_stage
from core.store import ocr as ocr_store
from core.store import pipeline as sp
from core.store.pipeline_metrics import pipeline_metrics
from tests.pipeline.scripted import reply


@pytest.fixture
def scripted(loopback):
    loopback.reply = reply
    return loopback


def test_full_pipeline_through_loopback(demo_project, scripted, lb_backend):
    project, db = demo_project, demo_project.db
    limits = Limits(concurrency=4)

    ocr = run_stage(project, "ocr", StageOptions(domain="ocr", threads=1)).to_json()
    assert ocr["images"] == 2 and ocr["with_text"] == 2
    bakery = next(
        i
        for i in sp.select_images(db, domain="ocr")
        if "FRESH" in (ocr_store.ocr_text(db, i.id) or "")
    )

    cap = run_stage(project, "caption", StageOptions(), lb_backend, limits).to_json()
    assert (cap["items"], cap["done"], cap["failed"]) == (4, 4, 0)
    assert cap["retry"]["items"] == 1  # the bakery sign got a short caption first
    history = sp.caption_history(db, bakery.id)
    assert [c.text for c in history][0] == "A yellow sign." and len(history) == 2
    assert history[-1].is_current and len(history[-1].text.split()) > 60
    other = sp.current_caption(db, sp.select_images(db, domain="posters")[0].id, "en")
    assert not other.text.startswith("Sure")  # the chatty preamble was dropped

    gen = run_stage(project, "generate", StageOptions(), lb_backend, limits).to_json()
    assert (gen["items"], gen["failed"]) == (16, 0)
    rows = sp.select_instructions(db)
    assert len(rows) == 4 * (3 + 4 + 3 + 3)
    mc = [r for r in rows if r.itype == "multiple_choice"]
    assert {r.answer for r in mc} == {"B", "C"} and all(len(r.options) == 4 for r in mc)
    prov = db.fetchone(
        "SELECT job_id, model, prompt_hash, seed_ids FROM instructions WHERE itype = 'judgement' LIMIT 1"
    )
    assert prov[0] == gen["job_id"] and prov[1] == "gpt-4o-mini" and len(prov[2]) == 16
    assert len(prov[3]) == 3  # k seeds from the domain's judgement seeds in English
    longs = [r for r in rows if r.itype == "long_vqa" and r.image_id == bakery.id]
    assert [r.round for r in longs] == [1, 2, 3] and len({r.conversation_id for r in longs}) == 1

    chk = run_stage(project, "check", StageOptions()).to_json()
    assert chk["checked"] == 52
    # leakage: "According to the description"; long_length: "Near a door."; near_duplicate:
    # "How many lines of text are there?" (short) repeats the multiple-choice question;
    # same_answer: the scripted long answers 1 and 2 are one paragraph given twice.
    assert chk["flags"] == {"leakage": 4, "long_length": 4, "near_duplicate": 4, "same_answer": 8}

    ver = run_stage(project, "verify", StageOptions(), lb_backend, limits).to_json()
    assert ver["items"] == 4 * (3 + 4 + 3) and ver["failed"] == 0
    rows = {r.question: r for r in sp.select_instructions(db, image_ids=[bakery.id])}
    assert rows["Is the text on the sign printed in capital letters?"].verify_agree is False
    assert rows["Is the text on the sign printed in capital letters?"].status == "needs_review"
    assert rows["What colour is the border of the sign?"].verify_agree is True
    assert (
        rows["What is the shape of the sign?"].verify_agree is True
    )  # "A rectangle" ~ "Rectangle"
    assert rows["What colour are the letters?"].verify_answer == "Dark blue"
    assert "verify_disagree" in rows["What colour are the letters?"].check_flags

    tr = run_stage(
        project, "expand", StageOptions(mode="translate", domain="posters"), lb_backend, limits
    ).to_json()
    assert tr["failed"] == 0 and tr["done"] == tr["items"] > 0
    zh = sp.select_instructions(db, lang="zh")
    assert zh and all(r.origin == "expanded" for r in zh)
    zh_mc = [r for r in zh if r.itype == "multiple_choice"]
    assert zh_mc and all(r.answer in "ABCD" and len(r.options) == 4 for r in zh_mc)
    assert {r.answer for r in zh if r.itype == "judgement"} <= {"是", "否"}

    metrics = pipeline_metrics(db)
    ocr_mc = metrics["by_domain"]["ocr"]["multiple_choice"]
    assert ocr_mc["generated"] == 6 and ocr_mc["flagged"] >= 2 and ocr_mc["cost_usd"] > 0
    assert metrics["totals"]["generated"] == 52

    # A re-run asks for nothing new; a forced re-caption is answered from the reply cache.
    seen = scripted.stats.requests
    again = run_stage(project, "generate", StageOptions(), lb_backend, limits).to_json()
    assert again["items"] == 0 and again["skipped"]["already_generated"] == 16
    recap = run_stage(
        project, "caption", StageOptions(force=True, domain="posters"), lb_backend, limits
    ).to_json()
    assert recap["cached"] == 1 and scripted.stats.requests == seen


def test_dry_run_shows_prompts_and_cost_without_sending(demo_project, scripted, lb_backend):
    run_stage(demo_project, "caption", StageOptions(), lb_backend)
    before = scripted.stats.requests
    plan = dry_run(
        demo_project, "generate", StageOptions(itypes=["judgement"]), lb_backend
    ).to_json()
    assert plan["requests"] == 4 and scripted.stats.requests == before
    text = plan["prompts"][0]["messages"][0]["text"]
    assert "<Q1>" in text and "yes" in text
    assert plan["priced"] and plan["estimated_cost_usd"] > 0


def test_model_stages_refuse_to_run_without_a_backend(demo_project):
    with pytest.raises(PipelineError, match="--backend"):
        run_stage(demo_project, "caption", StageOptions())
    with pytest.raises(PipelineError, match="unknown stage"):
        run_stage(demo_project, "paint", StageOptions())


def test_an_unfinished_job_resumes_with_its_own_options(demo_project, scripted, lb_backend):
    from core.jobs import create_job
    from core.pipeline.run import resume_job
    from core.pipeline.stage_caption import plan_captions

    opts = StageOptions(lang="zh", domain="ocr")
    items, _ = plan_captions(demo_project, opts)
    # As a run killed before its first reply leaves it: a job with pending items.
    job_id = create_job(demo_project.db, "caption", items, backend="loopback",
                        model="gpt-4o-mini", params=opts.to_json())  # fmt: skip
    result = resume_job(demo_project, job_id, lb_backend).to_json()
    assert (result["status"], result["done"], result["failed"]) == ("done", 2, 0)
    for img in sp.select_images(demo_project.db, domain="ocr"):
        assert sp.current_caption(demo_project.db, img.id, "zh", exact=True).text.startswith("画面")
    with pytest.raises(PipelineError, match="no job 999"):
        resume_job(demo_project, 999, lb_backend)
