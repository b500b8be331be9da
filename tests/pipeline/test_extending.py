"""Adding an instruction type or a stage is one class plus its registration (docs/extending.md):
a toy fifth type and a toy model stage, registered here, run through the CLI and the GUI's
planner against the loopback server, and the registries refuse a second use of a name."""

from __future__ import annotations

import json
import re

import pytest

from core import itypes
from core.cli import main
from core.itypes import InstructionType
from core.jobs.stage import Stage
from core.pipeline import stages
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


class TitleStage(Stage):
    """Asks for a title per image; the engine stores each reply as the job's output."""

    name = "title"

    def __init__(self, project, opts):
        self.opts = opts

    def build(self, item):
        from core.backends.base import ChatRequest

        return ChatRequest.user(f"Give image {item.payload['image_id']} a title.", max_tokens=20)


class Title(StageSpec):
    name = "title"
    title = "Title the images"
    options = RunOptions
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

    title = _json(capsys, [*run, "--stage", "title"])
    assert (title["stage"], title["items"], title["done"], title["failed"]) == ("title", 2, 2, 0)

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


def test_each_stage_words_its_own_summary():
    from core.cli.run_cmds import describe

    engine = {"done": 3, "failed": 1, "cached": 0, "cost_usd": 0.5, "skipped": {"x": 2},
              "failures": [{"key": "k", "reason": "bad_output", "error": "e"}]}  # fmt: skip
    assert describe({"stage": "verify", **engine}) == (
        "verify: 3 done, 1 failed, 0 from cache, $0.5000 (skipped: x 2)\n  failed k: bad_output: e"
    )
    caption = describe({"stage": "caption", **engine, "retry": {"items": 2}})
    assert caption.endswith("\n  2 short caption(s) asked again")
    check = {"stage": "check", "checked": 5, "passed": 4, "flagged": 1, "flags": {"leakage": 1}}
    assert describe(check) == "check: 5 items, 4 passed, 1 flagged (leakage 1)"
    ocr = {"stage": "ocr", "engine": "rapidocr", "images": 2, "with_text": 1, "skipped": 0}
    assert describe(ocr) == "ocr (rapidocr): 2 images read, 1 with text, 0 skipped"
    assert describe({"stage": "ocr", "job_id": 4, **engine}).startswith("ocr: 3 done")
    imp = {"stage": "expand", "mode": "import",
           "import": {"instructions": 9, "records": 3, "format": "llava"}}  # fmt: skip
    assert describe(imp) == "expand import: 9 items from 3 llava records"
