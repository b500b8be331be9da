"""Config validation and the scoring of held-out answers (no model needed)."""

from __future__ import annotations

import pytest

from core.export.conversation import Conversation
from trainer.config import load_config
from trainer.errors import ConfigError
from trainer.evaluate import build_items, infer_itype, is_correct, normalize, report, score

pytestmark = pytest.mark.train


def _write(tmp_path, text: str):
    p = tmp_path / "cfg.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_config_defaults_and_paths_relative_to_the_file(tmp_path):
    (tmp_path / "models" / "m").mkdir(parents=True)
    cfg = load_config(
        _write(
            tmp_path,
            "model: models/m\ndata: export\noutput_dir: runs/a\n"
            "learning_rate: 2e-4\nlora: {r: 4}\n",
        )
    )
    assert cfg.model == str(tmp_path / "models" / "m")
    assert cfg.data == str(tmp_path / "export") and cfg.output_dir == str(tmp_path / "runs" / "a")
    assert cfg.learning_rate == 2e-4 and cfg.lora.r == 4 and cfg.lora.alpha == 32
    assert cfg.trust_remote_code is False and cfg.allow_pickle is False
    assert cfg.eval.split == "auto" and cfg.precision == "auto"
    hub = load_config(_write(tmp_path, "model: org/some-vlm\ndata: e\noutput_dir: r\n"))
    assert hub.model == "org/some-vlm"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: m\ndata: d\noutput_dir: o\nlearnig_rate: 0.1\n", "did you mean 'learning_rate'"),
        ("model: m\ndata: d\n", "missing required key 'output_dir'"),
        ("model: m\ndata: d\noutput_dir: o\nbatch_size: four\n", "batch_size: expected int"),
        ("model: m\ndata: d\noutput_dir: o\nlora: {target_modules: '(('}\n", "not a valid regex"),
        ("model: m\ndata: d\noutput_dir: o\nlora: {rank: 8}\n", "unknown key lora.'rank'"),
        ("model: m\ndata: d\noutput_dir: o\nprecision: fp8\n", "precision must be one of"),
        ("model: m\ndata: d\noutput_dir: o\nquantization: 8bit\n", "'4bit'"),
        ("model: m\ndata: d\noutput_dir: o\neval: {split: 1.5}\n", "eval.split"),
        ("model: [unclosed\n", "not valid YAML"),
        ("", "is empty"),
    ],
)
def test_config_errors_are_clear(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(_write(tmp_path, text))


def test_item_types_from_answer_shape():
    assert infer_itype("B") == "multiple_choice" and infer_itype("(C)") == "multiple_choice"
    assert infer_itype("Yes.") == "judgement" and infer_itype("否") == "judgement"
    assert infer_itype("a red car") == "short_vqa" and infer_itype("红色") == "short_vqa"
    assert infer_itype("The image shows a long road leading to a house under a sky") == "long_vqa"


def test_matching_rules():
    assert is_correct("multiple_choice", "B. green", "B")
    assert is_correct("multiple_choice", "(b)", "B")  # the verify normaliser reads (b) as B
    assert is_correct("multiple_choice", "The answer is C", "C")
    assert is_correct("judgement", "Yes, it is.", "yes")
    assert is_correct("judgement", "不是", "否") and not is_correct("judgement", "no", "是")
    assert is_correct("short_vqa", "The Red Car.", "red car")
    assert not is_correct("short_vqa", "red cars", "red car")
    assert is_correct("long_vqa", "whatever", "anything") is None
    assert normalize("  A  Big, RED   ball! ") == "big red ball"


def test_items_take_types_from_meta_turns_and_score_per_type(tmp_path):
    conv = Conversation(
        id="x",
        images=[tmp_path / "a.png"],
        messages=[
            {"role": "user", "content": "<image>\nq1"},
            {"role": "assistant", "content": "A"},
            {"role": "user", "content": "q2"},
            {"role": "assistant", "content": "blue"},
            {"role": "user", "content": "q3"},
            {"role": "assistant", "content": "no"},
        ],
        meta={"turns": [{"itype": "multiple_choice"}, {"itype": "short_vqa"}, {}]},
    )
    items = build_items([conv], ["train.json, record 1"], [0], max_items=10)
    assert [i.itype for i in items] == ["multiple_choice", "short_vqa", "judgement"]
    assert len(items[1].messages) == 3 and items[1].images == conv.images
    before = score(items, ["B", "blue", "yes"])
    after = score(items, ["A", "Blue.", "no"])
    assert before["overall"] == {"n": 3, "correct": 1, "accuracy": 0.3333}
    assert after["overall"]["accuracy"] == 1.0 and after["short_vqa"]["accuracy"] == 1.0
    rep = report(items, before, after, held_rows=1)
    assert rep["delta"]["overall"] == pytest.approx(0.6667)
    assert build_items([conv], ["r"], [0], max_items=2)[-1].answer == "blue"
