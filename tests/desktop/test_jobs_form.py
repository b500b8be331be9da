"""The Jobs form before a run: the chosen stage's own options, generated from its options
class; the request count and cost of core's dry run; a confirmation above the user's
threshold; the stage the project needs next and a backend that passed its test."""

from __future__ import annotations

import pytest

from core.store import jobs as js
from tests.desktop import test_jobs_panel as panel_tests
from tests.desktop.test_jobs_panel import add_loop_backend
from tests.desktop.test_screenshots import save
from tests.fixtures_loopback import loopback  # noqa: F401  (fixture)

pytestmark = pytest.mark.gui
jobs_project = panel_tests.jobs_project  # six rendered signs in two domains
server = panel_tests.server  # the loopback server with scripted replies


make_panel = panel_tests.make_panel  # the panel over the real engine, waited for


@pytest.fixture
def panel_of(make_panel):
    return lambda project: make_panel(project=project)


def settled(qtbot, form):
    """The estimate of the form's current choices, once it is in."""
    qtbot.waitUntil(lambda: not form.busy() and form.last_estimate is not None, timeout=10000)
    return form.last_estimate


def _widgets(form, stage):
    form.choose(stage)
    return set(form.page().editors)


def test_the_form_shows_only_the_chosen_stages_options(qtbot, panel_of, jobs_project):
    form = panel_of(jobs_project).form
    generate = _widgets(form, "generate")
    # every generation option: types, items per type, seeds, format, language, ...
    assert {"itypes", "counts", "seeds_k", "fmt", "lang", "temperature", "sample_seed",
            "attach_image", "multi_round", "limit", "budget_usd", "force"} <= generate  # fmt: skip
    assert "domain" not in generate and "image_ids" not in generate  # the scope sets those
    assert _widgets(form, "caption") == {"lang", "limit", "force", "budget_usd", "caption_min"}
    assert {"against", "similarity", "statuses"} <= _widgets(form, "verify")
    assert "fmt" not in _widgets(form, "check")
    assert form.page("ocr") is not form.page("generate")  # a page per stage

    # What the widgets hold is the stage's own options class, typed.
    form.choose("generate", itypes=["judgement"], counts={"judgement": 6}, fmt="json",
                seeds_k=5, lang="zh")  # fmt: skip
    opts = form.options()
    assert type(opts).__name__ == "GenerateOptions"
    assert (opts.itypes, opts.counts["judgement"], opts.fmt, opts.seeds_k, opts.lang) == (
        ["judgement"], 6, "json", 5, "zh")  # fmt: skip
    form.choose("caption", limit=0, budget_usd=0.0)
    caption = form.options()
    assert type(caption).__name__ == "CaptionOptions" and caption.limit is None
    assert caption.budget_usd is None and not hasattr(caption, "fmt")


def test_the_request_count_and_cost_come_from_the_dry_run(qtbot, panel_of, jobs_project, server):
    add_loop_backend(server)
    panel = panel_of(jobs_project)
    panel.reload_choices()
    form = panel.form
    form.choose("caption", "all", backend="loop")
    dry = settled(qtbot, form)
    assert dry.requests == 6 and dry.priced and dry.estimated_cost_usd > 0
    assert f"6 request(s), estimated cost at most ${dry.estimated_cost_usd:.4f}" in (
        form.estimate.text()
    )
    assert server.stats.requests == 0  # counted, not sent
    form.choose(scope="domain", domain="posters")
    assert settled(qtbot, form).requests == 2
    form.choose("check")
    assert settled(qtbot, form).note and "costs nothing" in form.estimate.text()
    form.choose("generate", "all")
    dry = settled(qtbot, form)
    assert dry.requests == 0 and dry.skipped["no_caption"] == 6
    save(panel, "jobs_form_generate")
    form.choose("caption")
    settled(qtbot, form)
    save(panel, "jobs_form_estimate")


def test_a_run_above_the_threshold_asks_first(qtbot, panel_of, jobs_project, server, monkeypatch):
    from desktop.models.ui_settings import save_ui_settings

    add_loop_backend(server)
    save_ui_settings(confirm_cost_usd=0.0001)
    panel = panel_of(jobs_project)
    panel.reload_choices()
    form = panel.form
    asked = []
    monkeypatch.setattr(form, "ask_confirmation", lambda dry, limit: asked.append(dry) or False)
    form.choose("caption", "all", backend="loop")
    form.start_button.click()  # before the estimate is in: it waits for it, then asks
    qtbot.waitUntil(lambda: bool(asked), timeout=10000)
    assert asked[0].requests == 6 and asked[0].estimated_cost_usd > 0.0001
    assert "Not started" in panel.message.text()
    assert js.list_jobs(jobs_project.db) == [] and server.stats.requests == 0

    monkeypatch.setattr(form, "ask_confirmation", lambda dry, limit: asked.append(dry) or True)
    with qtbot.waitSignal(panel.worker.jobStarted, timeout=15000):
        form.start_button.click()
    assert len(asked) == 2
    qtbot.waitUntil(lambda: not panel.busy(), timeout=30000)

    save_ui_settings(confirm_cost_usd=100.0)  # under the threshold: no question
    with qtbot.waitSignal(panel.worker.jobStarted, timeout=15000):
        form.choose("caption", "all", force=True)
        form.start_button.click()
    assert len(asked) == 2
    qtbot.waitUntil(lambda: not panel.busy(), timeout=30000)


def test_the_default_stage_is_what_the_project_needs_next(qtbot, panel_of, jobs_project):
    from core.store import pipeline as sp

    assert panel_of(jobs_project).form.stage.currentData() == "caption"  # nothing captioned
    for img in sp.select_images(jobs_project.db):
        sp.add_caption(jobs_project.db, img.id, "A sign with words.", "en", "m", None, None)
    assert panel_of(jobs_project).form.stage.currentData() == "generate"


def test_the_default_backend_is_one_that_passed_its_test(qtbot, panel_of, jobs_project, server):
    from core.cli import main

    add_loop_backend(server, name="a-broken")
    add_loop_backend(server, name="b-works")
    form = panel_of(jobs_project).form
    assert form.backend.currentData() == "a-broken"  # none tested yet: the first
    assert main(["backend", "test", "b-works"]) == 0  # the real probe, recorded
    server.add_fault("401", times=50)
    assert main(["backend", "test", "a-broken"]) == 1
    assert panel_of(jobs_project).form.backend.currentData() == "b-works"


def test_the_words_core_declares_have_chinese_entries():
    from core.pipeline.option_fields import fields_of
    from core.pipeline.options import OPTION_CLASSES
    from core.pipeline.results import IMAGES, TEMPLATES
    from desktop.i18n import ZH

    texts = set(TEMPLATES) | set(IMAGES)
    for cls in OPTION_CLASSES:
        for f in fields_of(cls):
            if f.form:
                texts |= {f.label, *f.choice_labels.values()} | ({f.special} - {None})
    missing = sorted(t for t in texts if t not in ZH)
    assert not missing, missing
