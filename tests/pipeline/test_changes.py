"""Runs report the rows they touched (core.changes.Changes), so the GUI re-reads only those."""

from __future__ import annotations

from core.changes import Changes
from core.pipeline import stages
from core.pipeline.common import StageOptions
from core.pipeline.run import run_stage
from core.store.changes import job_changes
from core.store.pipeline import select_images, select_instructions
from tests.pipeline.scripted import reply


def test_jobs_direct_runs_and_imports_name_what_they_changed(demo_project, loopback, lb_backend):
    loopback.reply = reply
    ocr = [img.id for img in select_images(demo_project.db, "ocr")]
    opts = StageOptions(domain="ocr", itypes=["judgement"])
    cap = run_stage(demo_project, "caption", opts, lb_backend).to_json()
    assert job_changes(demo_project.db, cap["job_id"]) == Changes.of(ocr)

    gen = run_stage(demo_project, "generate", opts, lb_backend).to_json()
    made = select_instructions(demo_project.db, domain="ocr")
    assert len(made) == 8
    assert job_changes(demo_project.db, gen["job_id"]) == Changes.of(ocr, [r.id for r in made])

    typed = stages.prepare(demo_project, "check", StageOptions(image_ids=ocr[:1]))
    check = stages.plan(demo_project, "check", typed)
    check.run(None)
    first = [r.id for r in made if r.image_id == ocr[0]]
    assert check.changes() == Changes.of(ocr[:1], first) and len(first) == 4


def test_an_import_names_its_new_images(project, tmp_path):
    from PIL import Image

    from core.library.importer import import_paths

    paths = []
    for i, colour in enumerate(("red", "blue")):
        paths.append(tmp_path / f"{i}.png")
        Image.new("RGB", (64, 48), colour).save(paths[-1])
    summary = import_paths(project, paths, workers=0)
    assert summary.changes() == Changes.of(
        [img.id for img in select_images(project.db)], added=True
    )
    again = import_paths(project, paths, workers=0)  # exact duplicates: nothing new
    assert not again.changes() and not again.changes().added_images


def test_a_check_selection_names_its_items_from_ids_alone(project, monkeypatch):
    """selection_changes (what a check run reports) names the images and items of its
    selection (domain, image ids, limit) as the rows read whole did, from an id read alone:
    the rows' text is never fetched (~100 ms of GIL in the job's thread at 3,000 images)."""
    from types import SimpleNamespace

    from core.store import pipeline as sp
    from core.store.changes import selection_changes
    from tests.review_data import populate

    populate(project, n_images=12, files=False)
    db = project.db
    rows = sp.select_instructions(db)

    def expected(domain=None, image_ids=None, limit=None):
        kept = [r for r in rows if (domain is None or r.domain == domain)
                and (image_ids is None or r.image_id in image_ids)]  # fmt: skip
        images = list(dict.fromkeys(r.image_id for r in kept))[:limit]
        return Changes.of(images, [r.id for r in kept if r.image_id in images])

    some = sorted({r.image_id for r in rows})[2:9]
    cases = [{}, {"domain": "art"}, {"image_ids": some}, {"image_ids": some, "limit": 3},
             {"limit": 5}, {"limit": 0}, {"domain": "science", "limit": 2}]  # fmt: skip
    wanted = [expected(**c) for c in cases]

    def whole(*_a, **_k):
        raise AssertionError("the selection's rows were read whole")

    monkeypatch.setattr(sp, "select_instructions", whole)
    for case, want in zip(cases, wanted, strict=True):
        opts = SimpleNamespace(domain=None, image_ids=None, limit=None)
        for k, v in case.items():
            setattr(opts, k, v)
        assert selection_changes(db, opts, instructions=True) == want, case
    assert wanted[0].instructions and len(wanted[3].images) == 3 and not wanted[5]
