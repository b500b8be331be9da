"""The real-output corpus: what SmolLM2-135M-Instruct wrote through the generate stage over the
demo photos (corpus_real/outputs.yaml), labelled by hand item by item (corpus_real/labels.yaml).

A label says `ok` (a careful reviewer keeps it) or names the defect class. Classes whose
defect shows in the text itself ("no model needed": form, template words, copies) are what
the check rules must catch; classes that need to know the image (a wrong answer, an invented
fact) are what verification is for. Measures, per item (the rules run over all items of one
image, as the check stage does):
- recall: flagged defective items / defective items whose class needs no model;
- false-flag rate: flagged acceptable items / acceptable items;
- riskiest-30 % share: defective items among the 30 % highest-risk / all defective items.
Shared by tests/pipeline/test_corpus_real.py and bench/checks_corpus.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.pipeline.checks import run_checks
from core.pipeline.items import Item
from core.pipeline.risk import risk_score
from core.store.quality import RiskInputs

CORPUS = Path(__file__).parent / "corpus_real"

# Defect classes a reviewer can see in the text alone; the rules are measured on these.
NO_MODEL = {
    "cut_off": "question or answer stops mid-sentence, or a question without its question form",
    "template": "prompt or seed words left in (Question, option, slash alternatives, slots)",
    "statement": "a statement or a caption sentence stands as the question",
    "letter_prefix": "an option letter in front of the question",
    "same_answer": "one answer given to several different questions of the image",
    "options_copy": "an option repeats the question",
    "bad_options": "options missing, repeated or not four",
    "bad_answer_form": "the answer is not a letter / yes-no / brief / detailed as the type needs",
    "gives_away": "the question contains its answer",
    "copies_caption": "the answer pastes the caption",
    "duplicate": "nearly the same question as another item of the image",
    "leakage": "it points at the description instead of the image",
    "off_topic": "about nothing in the image or the caption",
    "meta_answer": "the answer talks about the task instead of answering",
}
# Classes only a model that knows the image (or its caption) can tell.
NEEDS_MODEL = {
    "wrong_answer": "the answer contradicts the caption",
    "invented": "asks or answers a fact the caption does not give",
}


@dataclass
class RealReport:
    items: int = 0
    acceptable: int = 0
    defective: dict = field(default_factory=Counter)  # class -> items
    caught: dict = field(default_factory=Counter)  # class -> flagged items
    false_flags: list = field(default_factory=list)
    misses: list = field(default_factory=list)
    flags: dict = field(default_factory=Counter)  # rule -> items flagged
    # (defective in the riskiest 30 % / defective, the most possible, defective share of the top)
    risky_share: tuple = (0.0, 0.0, 0.0)
    risky_share_checks_only: tuple = (0.0, 0.0, 0.0)
    verifier: str | None = None  # the model behind the caption verdicts, when present
    model_caught: dict = field(default_factory=Counter)  # class -> caption-verify flagged
    model_false: int = 0  # acceptable items the caption verifier flagged
    verified: int = 0  # items with a caption verdict
    verified_ok: int = 0  # acceptable items with a caption verdict
    verified_wrong: int = 0  # wrong-answer or invented items with a caption verdict

    @property
    def no_model(self) -> int:
        return sum(n for c, n in self.defective.items() if c in NO_MODEL)

    @property
    def recall(self) -> float:
        return sum(n for c, n in self.caught.items() if c in NO_MODEL) / max(self.no_model, 1)

    @property
    def false_rate(self) -> float:
        return len(self.false_flags) / max(self.acceptable, 1)

    def to_json(self) -> dict:
        return {
            "items": self.items,
            "acceptable": self.acceptable,
            "defective_by_class": dict(self.defective),
            "caught_by_class": dict(self.caught),
            "recall_no_model": round(self.recall, 3),
            "false_flag_rate": round(self.false_rate, 3),
            "flags": dict(self.flags),
            "misses": self.misses,
            "false_flags": self.false_flags,
            "riskiest_30pct_share_of_defective": self.risky_share[0],
            "riskiest_30pct_share_possible": self.risky_share[1],
            "riskiest_30pct_defective_fraction": self.risky_share[2],
            "riskiest_30pct_share_checks_only": self.risky_share_checks_only[0],
            "caption_verifier": self.verifier,
            "caption_verify_caught_by_class": dict(self.model_caught),
            "caption_verify_false_flags": self.model_false,
            "caption_verified_acceptable": self.verified_ok,
            "caption_verified_wrong_answer": self.verified_wrong,
        }


# The model's replies: outputs.yaml holds the first two runs, outputs_more.yaml the runs added
# later (bench/real_corpus_build.py writes either); labels.yaml labels the items of both.
OUTPUT_FILES = ("outputs.yaml", "outputs_more.yaml")


def _yaml(name: str) -> dict:
    return yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))


def load() -> tuple[dict, dict, dict]:
    outputs: dict = {"outputs": []}
    for name in OUTPUT_FILES:
        if (CORPUS / name).is_file():
            outputs["outputs"] += _yaml(name)["outputs"]
    return outputs, _yaml("labels.yaml")["labels"], _yaml("captions.yaml")["captions"]


def load_corrected() -> list[dict]:
    """The reviewer's corrections of real defective items (corrected.yaml), all acceptable."""
    doc = _yaml("corrected.yaml")
    return [{"lang": doc["lang"], **it} for it in doc["items"]]


def images(outputs: dict, captions: dict) -> dict[str, list[tuple[str, Item]]]:
    """(run seed, image) -> [(item key, Item)], the items the check stage sees together."""
    out: dict[str, list[tuple[str, Item]]] = defaultdict(list)
    for reply in outputs["outputs"]:
        group = reply["id"].rsplit(":", 1)[0]
        for n, it in enumerate(reply["items"], start=1):
            item = Item(reply["itype"], reply["lang"], it["question"], it["answer"],
                        it.get("options"), index=n, caption=captions[reply["image"]].strip())  # fmt: skip
            out[group].append((f"{reply['id']}:{n}", item))
    for n, it in enumerate(load_corrected(), start=1):
        image = it["key"].split(":")[1]
        item = Item(it["itype"], it["lang"], it["question"], it["answer"], it.get("options"),
                    index=n, caption=captions[image].strip())  # fmt: skip
        out[f"c:{image}"].append((it["key"], item))
    return out


def all_labels() -> dict:
    """Every item's label: labels.yaml, and `ok` for each corrected item (its why: what the
    reviewer changed)."""
    _, labels, _ = load()
    for it in load_corrected():
        labels[it["key"]] = {"class": "ok", "why": f"corrects {it['corrects']}: {it['why']}"}
    return labels


def verdicts(name: str = "smollm2") -> tuple[str | None, dict]:
    """The caption verifier's and blind answers per item (bench/real_corpus_verify.py)."""
    path = CORPUS / f"verify_{name}.yaml"
    if not path.is_file():
        return None, {}
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc["model"], doc["verdicts"]


def _risk(item: Item, names: list[str], verdict: dict | None) -> float:
    v = verdict or {}
    return risk_score(RiskInputs(0, item.itype, item.lang, item.question, item.answer, names,
                                 None, None, v.get("caption_agree"), v.get("caption_untellable"),
                                 v.get("blind_score")))  # fmt: skip


def _share_in_top(scored: list[tuple[float, bool]], fraction: float = 0.3) -> tuple:
    """(defective items in the top `fraction` by risk / all defective items, the most that
    share can be, the defective fraction of the top). Ties are broken against us: defective
    items sort last within a tie."""
    ranked = sorted(scored, key=lambda x: (-x[0], x[1]))
    top = ranked[: round(len(ranked) * fraction)]
    bad = sum(d for _, d in scored)
    if not bad or not top:
        return 0.0, 0.0, 0.0
    hit = sum(d for _, d in top)
    return round(hit / bad, 3), round(min(len(top), bad) / bad, 3), round(hit / len(top), 3)


# Runs of the corpus by the run part of the item key. `dev`: the rules were developed on these
# (s0 first; s1j was held out at first, measured at 80 % recall, and the classes it exposed
# became rules, so it is development data now, as are the later even-seeded runs). `held_out`:
# the later odd-seeded runs, assigned here before any rule ran over them and never used to
# change a rule. `corrected`: the reviewer's corrections (corrected.yaml), acceptable items
# measured apart.
SPLITS = {
    "dev": ("s0", "s1j", "s2j", "s4j", "s6j"),
    "held_out": ("s3j", "s5j", "s7j"),
    "corrected": ("c",),
}


def evaluate(split: str | None = None) -> RealReport:
    """The measures over the whole corpus, or over one of SPLITS."""
    outputs, _, captions = load()
    labels = all_labels()
    report = RealReport()
    report.verifier, model = verdicts()
    scored, scored_checks = [], []
    for name, group in images(outputs, captions).items():
        if split is not None and name.split(":", 1)[0] not in SPLITS[split]:
            continue
        found = run_checks([item for _, item in group])
        for (key, item), flags in zip(group, found, strict=True):
            label = labels[key]
            report.items += 1
            names = sorted({f.name for f in flags})
            defective = label["class"] != "ok"
            scored.append((_risk(item, names, model.get(key)), defective))
            scored_checks.append((_risk(item, names, None), defective))
            v = model.get(key) or {}
            report.verified += bool(v)
            report.verified_ok += bool(v) and not defective
            report.verified_wrong += bool(v) and label["class"] in NEEDS_MODEL
            doubted = v.get("caption_agree") is False
            if doubted and defective:
                report.model_caught[label["class"]] += 1
            elif doubted:
                report.model_false += 1
            report.flags.update(names)
            cls = label["class"]
            if cls == "ok":
                report.acceptable += 1
                if names:
                    report.false_flags.append(f"{key}: {', '.join(names)} on {item.question!r}")
                continue
            report.defective[cls] += 1
            if names:
                report.caught[cls] += 1
            elif cls in NO_MODEL:
                report.misses.append(f"{key} [{cls}]: {item.question!r} -> {item.answer!r}")
    report.risky_share = _share_in_top(scored)
    report.risky_share_checks_only = _share_in_top(scored_checks)
    return report


def format_real(report: RealReport) -> str:
    lines = [
        f"real corpus: {report.items} items, {report.acceptable} acceptable, "
        f"{sum(report.defective.values())} defective ({report.no_model} need no model)",
        f"recall on no-model defects: {report.recall:.1%}; "
        f"false flags on acceptable items: {len(report.false_flags)}/{report.acceptable} "
        f"({report.false_rate:.1%})",
        f"{'defect class':<18} {'items':>5} {'flagged':>7}",
    ]
    for cls, n in sorted(report.defective.items()):
        kind = "" if cls in NO_MODEL else "  (needs a model)"
        lines.append(f"{cls:<18} {n:>5} {report.caught[cls]:>7}{kind}")
    share, best, precision = report.risky_share
    lines.append(
        f"riskiest 30 % holds {share:.0%} of the defective items (at most {best:.0%} can fit; "
        f"{precision:.0%} of those items are defective; check flags alone: "
        f"{report.risky_share_checks_only[0]:.0%})"
    )
    if report.verified:
        caught = sum(report.model_caught[c] for c in NEEDS_MODEL)
        lines.append(
            f"caption verify by {report.verifier} ({report.verified} items verified): flagged "
            f"{caught}/{report.verified_wrong} wrong-answer or invented items, "
            f"{report.model_false}/{report.verified_ok} acceptable ones"
        )
    lines += [f"  missed {m}" for m in report.misses]
    lines += [f"  false  {m}" for m in report.false_flags]
    return "\n".join(lines)
