"""Detection and false-flag rates of the pipeline's check rules on the hand-written corpus of
model outputs in tests/pipeline/corpus (see tests/pipeline/corpus_eval.py for the measures),
and on the real-output corpus in tests/pipeline/corpus_real: what SmolLM2-135M wrote through
the generate stage, labelled by hand (tests/pipeline/corpus_real_eval.py): recall on the
defects that need no model, false flags on acceptable items, the caption verifier's catch of
wrong answers and the share of defective items in the riskiest 30 %.

    .venv/bin/python bench/checks_corpus.py [--json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pipeline.corpus_eval import evaluate, format_report, load_corpus  # noqa: E402
from tests.pipeline.corpus_real_eval import evaluate as evaluate_real  # noqa: E402
from tests.pipeline.corpus_real_eval import format_real  # noqa: E402


def main() -> int:
    entries = load_corpus()
    splits = {
        "tuned": [e for e in entries if e["file"] != "held_out.yaml"],
        # Written after the rules were tuned on the other files: the honest numbers.
        "held_out": [e for e in entries if e["file"] == "held_out.yaml"],
    }
    reports = {name: evaluate(chosen) for name, chosen in splits.items()}
    real = {split: evaluate_real(split) for split in ("tuned", "held_out")}
    if "--json" in sys.argv:
        doc = {k: r.to_json() for k, r in reports.items()}
        doc |= {f"real_{k}": r.to_json() for k, r in real.items()}
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for name, report in reports.items():
            print(f"== synthetic, {name}")
            print(format_report(report))
        for split, report in real.items():
            print(f"== real, {split} (SmolLM2-135M-Instruct through the generate stage)")
            print(format_real(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
