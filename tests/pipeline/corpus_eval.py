"""Load the corpus of model outputs and measure parser and checks against it.

Shared by tests/pipeline/test_corpus.py and bench/checks_corpus.py. For every check rule:
detection rate = flagged / items the ground truth says it should flag; false-flag rate =
flagged / items of the types it applies to that the ground truth leaves clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.pipeline.checks import RULES, run_checks
from core.pipeline.parsers import ParseError, parse_output

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class RuleScore:
    expected: int = 0
    caught: int = 0
    clean: int = 0
    false_flags: int = 0
    misses: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    @property
    def detection(self) -> float | None:
        return self.caught / self.expected if self.expected else None

    @property
    def false_rate(self) -> float | None:
        return self.false_flags / self.clean if self.clean else None


@dataclass
class Report:
    entries: int = 0
    items: int = 0
    parse_mismatches: list[str] = field(default_factory=list)
    rules: dict[str, RuleScore] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "entries": self.entries,
            "items": self.items,
            "parse_mismatches": self.parse_mismatches,
            "rules": {
                name: {
                    "expected": s.expected,
                    "detection": s.detection,
                    "clean": s.clean,
                    "false_flag_rate": s.false_rate,
                    "misses": s.misses,
                    "false_flags": s.false,
                }
                for name, s in sorted(self.rules.items())
            },
        }


def load_corpus(folder: Path = CORPUS) -> list[dict]:
    entries = []
    for path in sorted(folder.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]:
            entry["file"] = path.name
            entries.append(entry)
    return entries


def evaluate(entries: list[dict]) -> Report:
    report = Report(rules={name: RuleScore() for name in RULES})
    for entry in entries:
        report.entries += 1
        eid, fmt = entry["id"], entry.get("format", "tagged")
        try:
            parsed = parse_output(entry["raw"], fmt, entry["itype"], entry["lang"])
        except ParseError as exc:
            want = entry.get("parse_error")
            if not want or want not in str(exc):
                report.parse_mismatches.append(f"{eid}: unexpected parse error {exc}")
            continue
        if "parse_error" in entry:
            report.parse_mismatches.append(f"{eid}: parsed, but {entry['parse_error']!r} expected")
            continue
        expected = entry["items"]
        got = parsed.items
        if len(got) != len(expected):
            report.parse_mismatches.append(f"{eid}: {len(got)} items, {len(expected)} expected")
            continue
        if len(parsed.skipped) != entry.get("skipped", 0):
            report.parse_mismatches.append(f"{eid}: skipped {parsed.skipped}")
        for n, (item, want) in enumerate(zip(got, expected, strict=True), start=1):
            for key in ("question", "options", "answer"):
                if key in want and getattr(item, key) != want[key]:
                    report.parse_mismatches.append(
                        f"{eid} item {n} {key}: got {getattr(item, key)!r}, want {want[key]!r}"
                    )
        for item in got:
            item.caption = entry.get("caption")
        flags = run_checks(got)
        for n, (item, want, found) in enumerate(zip(got, expected, flags, strict=True), start=1):
            report.items += 1
            names = {f.name for f in found}
            for rule_name, rule in RULES.items():
                if rule.types is not None and item.itype not in rule.types:
                    continue
                score = report.rules[rule_name]
                where = f"{eid} item {n}"
                if rule_name in want["flags"]:
                    score.expected += 1
                    if rule_name in names:
                        score.caught += 1
                    else:
                        score.misses.append(where)
                else:
                    score.clean += 1
                    if rule_name in names:
                        score.false_flags += 1
                        msg = next(f.message for f in found if f.name == rule_name)
                        score.false.append(f"{where}: {msg}")
    return report


def format_report(report: Report) -> str:
    lines = [
        f"corpus: {report.entries} outputs, {report.items} parsed items, "
        f"{len(report.parse_mismatches)} parse mismatches",
        f"{'rule':<20} {'should flag':>11} {'detection':>9} {'clean':>6} {'false-flag':>10}",
    ]
    scores = report.rules.values()
    caught, expected = sum(s.caught for s in scores), sum(s.expected for s in scores)
    false, clean = sum(s.false_flags for s in scores), sum(s.clean for s in scores)
    lines.insert(
        1,
        f"overall: caught {caught}/{expected} ({caught / max(expected, 1):.0%}), "
        f"false flags {false}/{clean} ({false / max(clean, 1):.1%})",
    )
    for name, s in sorted(report.rules.items()):
        det = "-" if s.detection is None else f"{s.detection:.0%}"
        fal = "-" if s.false_rate is None else f"{s.false_rate:.1%}"
        lines.append(f"{name:<20} {s.expected:>11} {det:>9} {s.clean:>6} {fal:>10}")
    for name, s in sorted(report.rules.items()):
        for where in s.misses:
            lines.append(f"  missed  {name}: {where}")
        for where in s.false:
            lines.append(f"  false   {name}: {where}")
    lines += [f"  parse: {m}" for m in report.parse_mismatches]
    return "\n".join(lines)
