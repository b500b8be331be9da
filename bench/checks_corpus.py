"""Detection and false-flag rates of the pipeline's check rules on the hand-written corpus of
model outputs in tests/pipeline/corpus (see tests/pipeline/corpus_eval.py for the measures).

    .venv/bin/python bench/checks_corpus.py [--json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pipeline.corpus_eval import evaluate, format_report, load_corpus  # noqa: E402


def main() -> int:
    entries = load_corpus()
    splits = {
        "tuned": [e for e in entries if e["file"] != "held_out.yaml"],
        # Written after the rules were tuned on the other files: the honest numbers.
        "held_out": [e for e in entries if e["file"] == "held_out.yaml"],
    }
    reports = {name: evaluate(chosen) for name, chosen in splits.items()}
    if "--json" in sys.argv:
        print(
            json.dumps({k: r.to_json() for k, r in reports.items()}, ensure_ascii=False, indent=2)
        )
    else:
        for name, report in reports.items():
            print(f"== {name}")
            print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
