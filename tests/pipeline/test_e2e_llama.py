"""The pipeline on real llama.cpp: the tiny random-weight VLM captions and verifies, SmolLM2
writes the questions. Output constrained by our grammars and schemas must parse, whatever
the weights: that is the point of constraining it."""

from __future__ import annotations

import pytest

from core.backends import BackendConfig, make_backend
from core.jobs import Limits
from core.pipeline.common import StageOptions
from core.pipeline.run import run_stage
from core.store import pipeline as sp

pytestmark = [pytest.mark.llama, pytest.mark.slow]

SHORT = {"question": 120, "option": 40, "answer": 160}
COUNTS = {"judgement": 2, "multiple_choice": 1, "short_vqa": 2, "long_vqa": 1}


@pytest.fixture(scope="module")
def tiny_vlm_files(tmp_path_factory):
    from tests.gguf_models import write_tiny_vlm

    return write_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm"))


def _local(name, **kw):
    return make_backend(BackendConfig(name=name, kind="llama_cpp", n_ctx=2048, n_threads=1, **kw))


def test_caption_generate_check_verify_on_llama_cpp(demo_project, tiny_vlm_files):
    text_gguf, mmproj = tiny_vlm_files
    from tests.gguf_models import smollm2_gguf

    vlm = _local("tiny-vlm", gguf=str(text_gguf), mmproj=str(mmproj), chat_format="llava-1-5")
    llm = _local("smollm2", gguf=str(smollm2_gguf()))
    one = Limits(concurrency=1)
    try:
        cap = run_stage(
            demo_project, "caption", StageOptions(domain="ocr", caption_min=1), vlm, one
        ).to_json()
        assert (cap["done"], cap["failed"]) == (2, 0)  # random weights: text, but text

        tagged = StageOptions(
            domain="ocr", limit=1, counts=COUNTS, max_chars=SHORT, temperature=0.8
        )
        gen = run_stage(demo_project, "generate", tagged, llm, one).to_json()
        assert gen["failed"] == 0, gen["failures"]
        rows = sp.select_instructions(demo_project.db)
        got = {t: sum(r.itype == t for r in rows) for t in COUNTS}
        assert got == COUNTS  # every grammar-constrained reply parsed into exactly n items
        judgements = [r.answer for r in rows if r.itype == "judgement"]
        assert sorted(judgements) == ["no", "yes"]  # balanced by the grammar
        (mc,) = [r for r in rows if r.itype == "multiple_choice"]
        assert len(mc.options) == 4 and mc.answer in "ABCD"

        as_json = StageOptions(domain="ocr", limit=1, fmt="json", force=True, counts=COUNTS,
                               itypes=["judgement", "multiple_choice"], max_chars=SHORT)  # fmt: skip
        gen_json = run_stage(demo_project, "generate", as_json, llm, one).to_json()
        assert gen_json["failed"] == 0, gen_json["failures"]
        assert len(sp.select_instructions(demo_project.db)) == sum(COUNTS.values()) + 3

        run_stage(demo_project, "check", StageOptions())
        ver = run_stage(demo_project, "verify", StageOptions(), vlm, one).to_json()
        assert ver["failed"] == 0
        verified = [r for r in sp.select_instructions(demo_project.db) if r.itype != "long_vqa"]
        assert all(r.verify_answer is not None for r in verified)
        for r in verified:  # the answer grammar keeps even random weights to a letter / yes-no
            if r.itype == "multiple_choice":
                assert r.verify_answer in ("A", "B", "C", "D")
            elif r.itype == "judgement":
                assert r.verify_answer in ("yes", "no")
    finally:
        vlm.close()
        llm.close()
