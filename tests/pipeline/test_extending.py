"""Adding an instruction type or a stage is one class plus its registration (docs/extending.md):
a toy fifth type and a toy model stage, registered here, run through the CLI and the GUI's
planner against the loopback server, and the registries refuse a second use of a name."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from core import itypes
from core.cli import main
from core.itypes import InstructionType
from core.jobs.stage import Stage
from core.pipeline import stages
from core.pipeline.option_fields import opt
from core.pipeline.options import PipelineError, RunOptions
from core.pipeline.stages import EngineRun, StageSpec
from tests.pipeline.scripted import reply as scripted_reply

_NUMBER = re.compile(r"\d+")
_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4"}


class Counting(InstructionType):
    """How many ...? answered with a number."""

    name = "counting"
    label = "Counting"
    verify_max_tokens = 8
    scored = True
    prompt_texts = {
        "generate_counting": {
            "en": "You write counting questions about an image from its caption.\n"
            "Caption: {caption}\n{seeds}{prior}Write {n} questions.\n{format}",
            "zh": "你编写计数问题。\n描述：{caption}\n{seeds}{prior}写 {n} 个问题。\n{format}",
        },
        "format_tagged_counting": {"en": "Use <Q1>…</Q1><A1>…</A1> for each of the {n}."},
        "verify_counting": {"en": "Count and answer with a number only.\n{question}"},
    }

    def normalize(self, answer, lang, options=None):
        text = answer.strip().lower().rstrip(".")
        found = _NUMBER.search(text)
        return found.group(0) if found else _WORDS.get(text, answer.strip())

    def eval_correct(self, prediction, answer):
        return self.normalize(prediction, "en") == self.normalize(answer, "en")


@dataclass
class TitleOptions(RunOptions):
    """The toy stage's own option: the CLI gets --style, the Jobs form a choice box."""

    style: str = opt("short", label="Title style", choices=("short", "long"),
                     help="title: a short or a long title")  # fmt: skip


class TitleStage(Stage):
    """Asks for a title per image; the engine stores each reply as the job's output."""

    name = "title"

    def __init__(self, project, opts):
        self.opts = opts

    def build(self, item):
        from core.backends.base import ChatRequest

        return ChatRequest.user(
            f"Give image {item.payload['image_id']} a {self.opts.style} title.", max_tokens=20
        )


class Title(StageSpec):
    name = "title"
    title = "Title the images"
    options = TitleOptions
    engine_stages = {"title": TitleStage}

    def plan(self, project, opts, backend):
        from core.store.pipeline import select_images

        chosen = select_images(project.db, opts.domain, opts.limit, ids=opts.image_ids)
        items = [(f"title:{img.id}", {"image_id": img.id}) for img in chosen]
        return EngineRun("title", TitleStage(project, opts), items, {})


# Registered per test, so that every other test sees the built-ins only.
@pytest.fixture
def counting():
    itypes.register(Counting)
    stages.register(Title)
    yield itypes.get("counting")
    itypes.unregister("counting")
    stages.unregister("title")


def _reply(body, images):
    from core.devtools.loopback import last_user_text

    text = last_user_text(body)
    if "You write counting questions" in text:
        return (
            "<Q1>How many lines of text are on the sign?</Q1><A1>Two.</A1>\n"
            "<Q2>How many borders does the sign have?</Q2><A2>1</A2>"
        )
    if "answer with a number only" in text:
        return "2" if "lines" in text else "3"
    if text.startswith("Give image"):
        return "A sign"
    return scripted_reply(body, images)


def _json(capsys, argv) -> dict:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_a_toy_type_and_a_toy_stage_run_through_the_cli(demo_project, loopback, counting, capsys):
    loopback.reply = _reply
    assert main(["backend", "add", "lb", "--kind", "openai", "--base-url", loopback.url,
                 "--model", "gpt-4o-mini"]) == 0  # fmt: skip
    root = str(demo_project.root)
    demo_project.close()
    capsys.readouterr()
    run = ["run", root, "--backend", "lb", "--json", "--domain", "ocr"]

    title = _json(capsys, [*run, "--stage", "title", "--style", "long"])
    assert (title["stage"], title["items"], title["done"], title["failed"]) == ("title", 2, 2, 0)
    # its own option reached its requests, and it is stored with its job as its own
    assert sum(n for t, n in loopback.stats.seen_text.items() if "a long title" in t) == 2
    assert main([*run, "--stage", "caption", "--style", "long"]) == 1
    assert "--style is not an option of stage caption" in capsys.readouterr().err

    assert _json(capsys, [*run, "--stage", "caption"])["done"] == 2
    gen = _json(capsys, [*run, "--stage", "generate", "--types", "counting"])
    assert (gen["items"], gen["done"], gen["failed"]) == (2, 2, 0)
    assert _json(capsys, ["run", root, "--stage", "check", "--json"])["checked"] == 4
    ver = _json(capsys, [*run, "--stage", "verify"])
    assert (ver["items"], ver["failed"]) == (4, 0)

    from core.project import Project
    from core.store.pipeline import select_instructions

    with Project.open(root) as project:
        rows = select_instructions(project.db, itypes=["counting"])
    assert {r.answer for r in rows} == {"Two.", "1"}  # stored as written, normalised to compare
    lines = [r for r in rows if "lines" in r.question]
    borders = [r for r in rows if "borders" in r.question]
    assert all(r.verify_answer == "2" for r in lines)  # "Two." and "2" agree
    assert all(r.verify_answer == "3" for r in borders)

    # The trainer's eval scores the new type with the same normaliser.
    from trainer.evaluate import is_correct

    assert is_correct("counting", "There are 2.", "two") and not is_correct("counting", "3", "1")


def test_the_gui_planner_plans_the_toy_stage_and_type(demo_project, lb_backend, counting):
    from core.pipeline.common import StageOptions
    from desktop.models.job_plan import Scope, plan, stage_order, uses_model

    assert "title" in stage_order() and uses_model("title", StageOptions())
    ids = tuple(img.id for img in _images(demo_project))[:3]
    typed, run = plan(demo_project, "title", StageOptions(), Scope("images", ids), lb_backend)
    assert isinstance(typed, RunOptions) and typed.image_ids == list(ids)
    assert [key for key, _ in run.items] == [f"title:{i}" for i in ids]
    _, gen = plan(
        demo_project, "generate", StageOptions(itypes=["counting"]), Scope("all"), lb_backend
    )
    assert gen.skipped["no_caption"] == 4  # planned by the core planner: nothing captioned yet


def test_the_toy_stages_option_appears_in_the_jobs_form(qtbot, demo_project, counting):
    pytest.importorskip("pytestqt")
    from desktop.views.job_start_form import JobStartForm

    form = JobStartForm(lambda: [], lambda: [])
    qtbot.addWidget(form)
    form.choose("title")
    style = form.page().editors["style"].widget  # laid out from TitleOptions, no GUI code
    assert [style.itemData(i) for i in range(style.count())] == ["short", "long"]
    form.choose(style="long", lang="zh")
    opts = form.options()
    assert isinstance(opts, TitleOptions) and (opts.style, opts.lang) == ("long", "zh")
    form.choose("generate")
    assert "style" not in form.page().editors


def test_a_job_stored_with_the_old_combined_options_resumes(demo_project, loopback, capsys):
    """Jobs made before the options were split stored every stage's fields (and the backend's
    kind) as their params: they are read back, and a resume runs them to the end."""
    from core.jobs import create_job
    from core.pipeline.options import CaptionOptions
    from core.pipeline.stage_caption import plan_captions

    loopback.reply = scripted_reply
    assert main(["backend", "add", "lb", "--kind", "openai", "--base-url", loopback.url,
                 "--model", "gpt-4o-mini"]) == 0  # fmt: skip
    old = {"lang": "en", "domain": "ocr", "image_ids": None, "limit": None, "force": False,
           "budget_usd": None, "caption_min": None, "itypes": list(itypes.names()),
           "counts": {"judgement": 4}, "seeds_k": 3, "fmt": "tagged", "attach_image": False,
           "multi_round": True, "temperature": 0.7, "sample_seed": 0, "max_chars": None,
           "statuses": None, "similarity": 0.5, "against": "image", "blind_trials": 3,
           "blind_threshold": 1.0, "mode": "rephrase", "source": None, "source_format": None,
           "ocr_engine": "rapidocr", "threads": None, "backend_kind": "openai",
           "scope": {"kind": "domain", "images": 0, "domain": "ocr"},
           "requested_stage": "caption"}  # fmt: skip
    items, _ = plan_captions(demo_project, CaptionOptions(domain="ocr"))
    job_id = create_job(demo_project.db, "caption", items, backend="lb", model="gpt-4o-mini",
                        params=old)  # fmt: skip
    root = str(demo_project.root)
    demo_project.close()
    capsys.readouterr()
    done = _json(capsys, ["run", root, "--resume", str(job_id), "--json"])
    assert (done["job_id"], done["stage"], done["status"], done["done"]) == (
        job_id, "caption", "done", 2)  # fmt: skip
    assert list(done) == ["job_id", "stage", "status", "done", "failed", "cached", "cost_usd"]


def _images(project):
    from core.store.pipeline import select_images

    return select_images(project.db, None, None)


def test_registries_refuse_a_name_twice(counting):
    with pytest.raises(ValueError, match="already registered"):
        itypes.register(Counting)
    with pytest.raises(ValueError, match="already registered"):
        stages.register(Title)
    with pytest.raises(PipelineError, match="unknown option"):
        stages.get("title").options.from_json({"lang": "en", "lnag": "zh"})


def test_each_result_words_itself_and_keeps_the_cli_json():
    from core.export.importer import DataImportSummary
    from core.pipeline import results as r

    failures = [{"key": "k", "reason": "bad_output", "error": "e"}]
    job = r.JobPart(7, 4, 3, 1, 0, 0.5, "done", failures)
    verify = r.VerifyResult("verify", "en", None, "lb", "m", {"x": 2}, job, against="caption")
    assert verify.summary_text() == (
        "verify: 3 done, 1 failed, 0 from cache, $0.5000 (skipped: x 2)\n  failed k: bad_output: e"
    )
    # The JSON of `mmstudio run --json`, key for key and in order (docs/cli.md).
    assert list(verify.to_json().items()) == [
        ("stage", "verify"), ("lang", "en"), ("domain", None), ("backend", "lb"),
        ("model", "m"), ("skipped", {"x": 2}), ("against", "caption"), ("job_id", 7),
        ("items", 4), ("done", 3), ("failed", 1), ("cached", 0), ("cost_usd", 0.5),
        ("status", "done"), ("failures", failures),
    ]  # fmt: skip
    caption = r.CaptionResult("caption", job=job, followup=r.JobPart(8, 2, 2),
                              followup_key="retry")  # fmt: skip
    assert caption.summary_text().endswith("\n  2 short caption(s) asked again")
    assert caption.to_json()["retry"]["items"] == 2 and caption.count() == 3
    caption.batch = {"batches": 1, "open": 1, "in_batch": 2, "requests": 0, "cost_usd": 0.0}
    assert list(caption.to_json())[-2:] == ["retry", "batch"]
    assert "--resume 7" in caption.summary_text()

    check = r.CheckResult("check", "en", None, 5, 1, 4, 1, {"leakage": 1})
    assert check.summary_text() == "check: 5 items, 4 passed, 1 flagged (leakage 1)"
    assert str(check.describe()) == "5 items checked on 1 image, 1 flagged"
    assert list(check.to_json()) == ["stage", "lang", "domain", "checked", "images", "passed",
                                     "flagged", "flags"]  # fmt: skip
    ocr = r.OcrResult("ocr", "en", None, "rapidocr", 2, 0, 1, [{"image_id": 3, "reason": "x"}])
    assert ocr.summary_text() == "ocr (rapidocr): 2 images read, 1 with text, 0 skipped"
    assert str(ocr.describe()) == "2 images read, 1 with text, 1 failed" and not ocr.ok()
    imp = r.ImportResult("expand", "en", None, DataImportSummary("llava", 3, 9))
    assert imp.summary_text() == "expand import: 9 items from 3 llava records"
    assert imp.to_json()["mode"] == "import" and imp.to_json()["import"]["records"] == 3
    resumed = r.ResumeResult(r.JobPart(4, done=2, status="done"), "caption_retry")
    assert resumed.summary_text() == "caption_retry: 2 done, 0 failed, 0 from cache, $0.0000"
    assert list(resumed.to_json()) == ["job_id", "stage", "status", "done", "failed", "cached",
                                       "cost_usd"]  # fmt: skip
    assert all(t.count("{") == t.count("}") for t in r.TEMPLATES)
