"""Stages over chosen images (StageOptions.image_ids, `mmstudio run --images`): every planner
plans for those images only, across domains, and a bad selection is a clear error."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.jobs import Limits
from core.pipeline.common import StageOptions
from core.pipeline.run import PipelineError, dry_run, run_stage
from core.store import ocr as ocr_store
from core.store import pipeline as sp
from tests.pipeline.scripted import reply


@pytest.fixture
def scripted(loopback):
    loopback.reply = reply
    return loopback


def _pick(db):
    """One image of `ocr` and the one of `image_scene`: a selection spanning two domains."""
    ocr = sp.select_images(db, domain="ocr")
    scene = sp.select_images(db, domain="image_scene")
    return [ocr[1].id, scene[0].id], [ocr[0].id] + [i.id for i in sp.select_images(db, "posters")]


def test_every_planner_keeps_to_the_chosen_images(demo_project, scripted, lb_backend):
    from core.pipeline.stage_caption import plan_captions
    from core.pipeline.stage_expand import plan_expansion
    from core.pipeline.stage_generate import plan_generation
    from core.pipeline.stage_ocr import plan_vlm_ocr
    from core.pipeline.stage_verify import plan_verification

    project, db = demo_project, demo_project.db
    chosen, others = _pick(db)
    sel = lambda **kw: StageOptions(image_ids=list(chosen), **kw)  # noqa: E731
    limits = Limits(concurrency=2)

    items, skipped = plan_captions(project, sel())
    assert sorted(p["image_id"] for _, p in items) == chosen and skipped["already_captioned"] == 0
    items, _ = plan_vlm_ocr(project, sel(), "gpt-4o-mini")
    assert sorted(p["image_id"] for _, p in items) == chosen

    ocr = run_stage(project, "ocr", sel(threads=1)).to_json()
    assert (ocr["images"], ocr["skipped"]) == (2, 0)
    assert ocr_store.images_with_ocr(db, "rapidocr") == set(chosen)

    cap = run_stage(project, "caption", sel(), lb_backend, limits).to_json()
    assert (cap["items"], cap["done"], cap["failed"]) == (2, 2, 0)
    assert all(sp.current_caption(db, i, "en") for i in chosen)
    assert not any(sp.current_caption(db, i, "en") for i in others)

    # Captions for everything, so only the selection keeps generate from planning the rest.
    run_stage(project, "caption", StageOptions(), lb_backend, limits)
    items, _ = plan_generation(project, sel())
    assert {p["image_id"] for _, p in items} == set(chosen) and len(items) == 2 * 4
    gen = run_stage(project, "generate", sel(), lb_backend, limits).to_json()
    assert (gen["items"], gen["failed"]) == (8, 0)
    assert {r.image_id for r in sp.select_instructions(db)} == set(chosen)
    run_stage(project, "generate", StageOptions(), lb_backend, limits)  # the others get items
    mine = {r.id for r in sp.select_instructions(db, image_ids=chosen)}

    chk = run_stage(project, "check", StageOptions(image_ids=[chosen[0]])).to_json()
    assert chk["images"] == 1 and chk["checked"] == len(
        sp.select_instructions(db, image_ids=[chosen[0]])
    )
    checked = {r.image_id for r in sp.select_instructions(db) if r.status != "new"}
    assert checked == {chosen[0]}

    items, _ = plan_verification(project, sel())
    assert items and {int(k) for k, _ in items} <= mine
    everything, _ = plan_verification(project, StageOptions())
    assert len(everything) > len(items)

    run_stage(project, "check", StageOptions())
    items, _ = plan_expansion(project, sel(mode="rephrase"))
    assert items and {p["id"] for _, p in items} <= mine
    assert len(plan_expansion(project, StageOptions(mode="rephrase"))[0]) > len(items)

    limited, _ = plan_generation(project, sel(force=True, limit=1, itypes=["judgement"]))
    assert [p["image_id"] for _, p in limited] == [min(chosen)]


def test_selection_survives_the_job_params_and_dry_run(demo_project, scripted, lb_backend):
    chosen, _ = _pick(demo_project.db)
    opts = StageOptions(image_ids=chosen)
    assert StageOptions.from_json(json.loads(json.dumps(opts.to_json()))).image_ids == chosen
    plan = dry_run(demo_project, "caption", opts, lb_backend).to_json()
    assert plan["requests"] == 2 and scripted.stats.requests == 0


def test_a_bad_selection_is_a_clear_error(demo_project):
    chosen, _ = _pick(demo_project.db)
    with pytest.raises(PipelineError, match=r"no image with id 9001, 9002 in this project"):
        run_stage(demo_project, "check", StageOptions(image_ids=[chosen[0], 9001, 9002]))
    with pytest.raises(PipelineError, match="no image chosen"):
        run_stage(demo_project, "check", StageOptions(image_ids=[]))
    with pytest.raises(PipelineError, match="no image with id 77"):
        dry_run(demo_project, "caption", StageOptions(image_ids=[77]))


def test_run_images_from_the_command_line(demo_project, scripted, capsys):
    db = demo_project.db
    chosen, others = _pick(db)
    root = str(demo_project.root)
    assert main(["backend", "add", "lb", "--kind", "openai", "--base-url", scripted.url,
                 "--model", "gpt-4o-mini"]) == 0  # fmt: skip
    demo_project.close()
    capsys.readouterr()
    ids = ",".join(str(i) for i in chosen)
    assert main(["run", root, "--stage", "caption", "--backend", "lb", "--images", ids,
                 "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert (out["items"], out["done"]) == (2, 2)
    assert scripted.stats.requests >= 2

    from core.project import Project

    with Project.open(root) as project:
        captioned = {
            i.id for i in sp.select_images(project.db) if sp.current_caption(project.db, i.id)
        }
    assert captioned == set(chosen)

    assert main(["run", root, "--stage", "check", "--images", f"{chosen[0]}, x"]) == 1
    assert "--images: 'x' is not an image id" in capsys.readouterr().err
    assert main(["run", root, "--stage", "check", "--images", ","]) == 1
    assert "no image id given" in capsys.readouterr().err
    assert main(["run", root, "--stage", "check", "--images", "424242"]) == 1
    assert "no image with id 424242" in capsys.readouterr().err
