"""Both verify modes and blind answerability on a selection of instructions (ids, statuses),
from the CLI and through the stage registry the GUI plans with (core.pipeline.stages): one
item a reviewer picked, a few, or a status filter; and what the review pane reads back
(core.store.quality.quality_detail), in its documented shape. Through the loopback server."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.jobs import Limits, create_job, run_job
from core.pipeline import stages
from core.pipeline.common import StageOptions
from core.pipeline.run import PipelineError, run_stage
from core.store import pipeline as sp
from core.store import quality
from core.store.changes import job_changes
from core.store.review import set_instruction_status
from tests.pipeline.scripted import LONG_CAPTION, reply


@pytest.fixture
def scripted(loopback):
    loopback.reply = reply
    return loopback


def _generated(project, backend) -> dict:
    for img in sp.select_images(project.db):
        sp.add_caption(project.db, img.id, LONG_CAPTION, "en", None, None, None, origin="manual")
    one = [sp.select_images(project.db, domain="posters")[0].id]
    run_stage(project, "generate", StageOptions(image_ids=one), backend, Limits(concurrency=4))
    run_stage(project, "check", StageOptions())
    return {r.question: r for r in sp.select_instructions(project.db)}


def _registry_run(project, name, values, backend):
    """What the Jobs panel does: prepare and plan through the registry, then the job engine."""
    opts = stages.prepare(project, name, values)
    stages.check_backend(name, backend, "no backend", opts=opts)
    plan = stages.plan(project, name, opts, backend)
    assert isinstance(plan, stages.EngineRun)
    job = create_job(project.db, plan.job_stage, plan.items, backend=backend.name,
                     model=backend.model, params=opts.to_json())  # fmt: skip
    run_job(project.db, job, plan.stage, backend, Limits(concurrency=2))
    return plan, job


def test_one_item_re_verified_through_the_registry(demo_project, scripted, lb_backend):
    project, db = demo_project, demo_project.db
    rows = _generated(project, lb_backend)
    round_ = rows["Is the sign round?"]
    border = rows["What colour is the border of the sign?"]
    # A person accepted it; re-verifying the one item they picked still runs (named items are
    # taken whatever their status) and leaves their decision alone.
    set_instruction_status(db, [round_.id], "accepted")

    plan, job = _registry_run(project, "verify",
                              {"against": "caption", "instruction_ids": [round_.id]}, lb_backend)  # fmt: skip
    assert [k for k, _ in plan.items] == [str(round_.id)]
    assert job_changes(db, job).instructions == {round_.id}
    got = quality.quality_detail(db, round_.id)
    assert got["caption_agree"] is False and got["caption_answer"] == "yes"
    (after,) = sp.select_instructions(db, ids=[round_.id])
    assert after.status == "accepted" and "caption_disagree" in after.check_flags
    untouched = [r for q, r in rows.items() if r.id != round_.id]
    assert all(quality.quality_detail(db, r.id)["caption_answer"] is None for r in untouched)

    # The image mode and blind on the same pick; a status filter narrows named items too.
    plan, _ = _registry_run(project, "verify", {"instruction_ids": [round_.id, border.id]},
                            lb_backend)  # fmt: skip
    assert sorted(int(k) for k, _ in plan.items) == sorted([round_.id, border.id])
    assert quality.quality_detail(db, border.id)["image_answer"] == "B"
    plan, _ = _registry_run(project, "blind", {"instruction_ids": [round_.id, border.id],
                                               "statuses": ["ok", "needs_review"]}, lb_backend)  # fmt: skip
    assert {p["id"] for _, p in plan.items} == {border.id}  # the accepted one is filtered out
    detail = quality.quality_detail(db, border.id)
    assert detail["blind_answers"] == ["B", "B", "B"] and detail["blind_score"] == 1.0
    assert "answerable_blind" in [f["name"] for f in detail["flags"]]

    # Re-verifying a picked item again is free without force, paid (from cache) with it.
    again = stages.plan(project, "verify", stages.prepare(
        project, "verify", {"against": "caption", "instruction_ids": [round_.id]}), lb_backend)  # fmt: skip
    assert again.items == [] and again.skipped["already_verified"] == 1
    forced = stages.plan(project, "verify", stages.prepare(
        project, "verify", {"against": "caption", "instruction_ids": [round_.id], "force": True}),
        lb_backend)  # fmt: skip
    assert len(forced.items) == 1


def test_quality_detail_has_every_verifier_answer_blind_and_risk_parts(
    demo_project, scripted, lb_backend
):
    project, db = demo_project, demo_project.db
    rows = _generated(project, lb_backend)
    item = rows["Is the sign round?"]
    fresh = quality.quality_detail(db, item.id)
    assert set(fresh) == {
        "image_answer", "image_agree", "image_score", "caption_answer", "caption_agree",
        "caption_score", "caption_untellable", "blind_answers", "blind_score", "risk",
        "risk_parts", "flags",
    }  # fmt: skip
    assert (fresh["image_answer"], fresh["caption_answer"], fresh["blind_answers"]) == (None,) * 3

    limits = Limits(concurrency=2)
    for values in ({"against": "caption"}, {"against": "image"}, {}):
        stage = "blind" if not values else "verify"
        run_stage(project, stage, StageOptions(instruction_ids=[item.id], **values), lb_backend,
                  limits)  # fmt: skip
    got = quality.quality_detail(db, item.id)
    assert got["image_answer"] in ("yes", "no") and got["image_agree"] is not None
    caption = [got[k] for k in ("caption_answer", "caption_agree", "caption_untellable")]
    assert caption == ["yes", False, False] and got["caption_score"] is not None
    assert len(got["blind_answers"]) == 3 and 0.0 <= got["blind_score"] <= 1.0
    # The parts say why the item is risky; combined they give the stored risk.
    parts = {p["signal"]: p["weight"] for p in got["risk_parts"]}
    assert parts["caption_disagree"] == 0.5
    keep = 1.0
    for w in parts.values():
        keep *= 1.0 - w
    assert got["risk"] == pytest.approx(1.0 - keep, abs=0.002)
    flags = {f["name"]: f["message"] for f in got["flags"]}
    assert "from the caption alone" in flags["caption_disagree"]
    assert quality.quality_detail(db, 10**9) is None


def test_a_bad_selection_is_a_clear_error(demo_project, lb_backend):
    for values, message in (
        ({"instruction_ids": [99999]}, "no instruction with id 99999"),
        ({"instruction_ids": []}, "no instruction chosen"),
        ({"statuses": ["maybe"]}, "unknown status"),
    ):
        for name in ("verify", "blind"):
            with pytest.raises(PipelineError, match=message):
                stages.prepare(demo_project, name, values)


def test_verify_and_blind_on_chosen_items_from_the_command_line(
    demo_project, scripted, lb_backend, capsys
):
    rows = _generated(demo_project, lb_backend)
    picked = [rows["Is the sign round?"].id, rows["What colour is the border of the sign?"].id]
    assert main(["backend", "add", "lb", "--kind", "openai", "--base-url", scripted.url,
                 "--model", "gpt-4o-mini"]) == 0  # fmt: skip
    root = str(demo_project.root)
    demo_project.close()
    capsys.readouterr()
    items = ",".join(map(str, picked))

    def run(*argv) -> dict:
        assert main(["run", root, "--backend", "lb", "--json", *argv]) == 0
        return json.loads(capsys.readouterr().out)

    ver = run("--stage", "verify", "--against", "caption", "--items", items)
    assert (ver["items"], ver["done"], ver["failed"]) == (2, 2, 0)
    img = run("--stage", "verify", "--items", items)
    assert (img["items"], img["failed"]) == (2, 0)
    blind = run("--stage", "blind", "--items", items, "--blind-trials", "2")
    assert blind["items"] == 2 * 2
    only_flagged = run("--stage", "verify", "--against", "caption", "--statuses", "needs_review",
                       "--force")  # fmt: skip
    assert 0 < only_flagged["items"] < len(rows)
    assert main(["run", root, "--backend", "lb", "--stage", "verify", "--items", "4,x"]) == 1
    assert "--items: 'x' is not an instruction id" in capsys.readouterr().err
    assert main(["run", root, "--backend", "lb", "--stage", "blind", "--items", "99999"]) == 1
    assert "no instruction with id 99999" in capsys.readouterr().err
