"""Detection and false-flag rates of the pipeline's check rules on the hand-written corpus of
model outputs in tests/pipeline/corpus (see tests/pipeline/corpus_eval.py for the measures),
and on the real-output corpus in tests/pipeline/corpus_real: what SmolLM2-135M wrote through
the generate stage, labelled by hand (tests/pipeline/corpus_real_eval.py): recall on the
defects that need no model and false flags on acceptable items, on the runs the rules were
developed on (dev), on the runs held out from rule work (held_out) and on the reviewer's
corrections of real defects (corrected); the caption verifier's catch of wrong answers; the
share of defective items in the riskiest 30 %, against a random order (the baseline: 30 %).

    .venv/bin/python bench/checks_corpus.py [--json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pipeline.corpus_eval import evaluate, format_report, load_corpus  # noqa: E402
from tests.pipeline.corpus_real_eval import NEEDS_MODEL, SPLITS, format_real  # noqa: E402
from tests.pipeline.corpus_real_eval import evaluate as evaluate_real  # noqa: E402


def _synthetic_line(name: str, report) -> str:
    scores = report.rules.values()
    caught, expected = sum(s.caught for s in scores), sum(s.expected for s in scores)
    false, clean = sum(s.false_flags for s in scores), sum(s.clean for s in scores)
    return (
        f"synthetic {name:<10} caught {caught}/{expected} ({caught / max(expected, 1):.0%}), "
        f"false flags {false}/{clean} rule-item pairs ({false / max(clean, 1):.1%})"
    )


def _real_line(name: str, r) -> str:
    caught = sum(n for c, n in r.caught.items() if c not in NEEDS_MODEL)
    return (
        f"real {name:<15} {r.items:>3} items: recall {caught}/{r.no_model} ({r.recall:.0%}) of "
        f"no-model defects; false flags {len(r.false_flags)}/{r.acceptable} acceptable "
        f"({r.false_rate:.0%})"
    )


def summary(synthetic: dict, real: dict, whole) -> list[str]:
    lines = [_synthetic_line(k, r) for k, r in synthetic.items()]
    lines += [_real_line(k, r) for k, r in real.items()]
    if whole.verified:
        hit, wrong = sum(whole.model_caught[c] for c in NEEDS_MODEL), whole.verified_wrong
        ok = whole.verified_ok
        lines.append(
            f"caption verify by {whole.verifier}: {hit}/{wrong} wrong-answer or invented items "
            f"flagged ({hit / max(wrong, 1):.0%}); {whole.model_false}/{ok} acceptable items "
            f"flagged ({whole.model_false / max(ok, 1):.0%}) ({whole.verified} items verified)"
        )
    share, best, precision = whole.risky_share
    lines.append(
        f"riskiest 30 % of all {whole.items} items holds {share:.0%} of the defective ones "
        f"(random order: 30 %, {share / 0.3:.2f}x; at most {best:.0%} can fit; {precision:.0%} "
        f"of the top is defective; check flags alone {whole.risky_share_checks_only[0]:.0%})"
    )
    return lines


def main() -> int:
    entries = load_corpus()
    splits = {
        "tuned": [e for e in entries if e["file"] != "held_out.yaml"],
        # Written after the rules were tuned on the other files: the honest numbers.
        "held_out": [e for e in entries if e["file"] == "held_out.yaml"],
    }
    reports = {name: evaluate(chosen) for name, chosen in splits.items()}
    real = {split: evaluate_real(split) for split in SPLITS}
    whole = evaluate_real()
    if "--json" in sys.argv:
        doc = {k: r.to_json() for k, r in reports.items()}
        doc |= {f"real_{k}": r.to_json() for k, r in real.items()}
        doc["real_all"] = whole.to_json()
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    for name, report in reports.items():
        print(f"== synthetic, {name}")
        print(format_report(report))
    for split, report in real.items():
        print(f"== real, {split} (SmolLM2-135M-Instruct through the generate stage)")
        print(format_real(report))
    print("== summary")
    print("\n".join(summary(reports, real, whole)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
