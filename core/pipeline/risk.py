"""One risk score per item, 0-1: how likely a reviewer is to reject it.

Every signal the project holds about an item is a chance that it is defective: each check
flag (weighted by its rule: a question cut off is almost surely bad, an unbalanced yes/no
split only sometimes), disagreement of the image verifier and of the caption verifier
(weighted by how far the answers are apart), "cannot be told from the caption", blind
answerability (scaled by its score) and a question of an odd length. The signals are combined
as independent chances, risk = 1 - prod(1 - w), so two weak signals rank above one, and no
number of signals passes 1. The score is recomputed whenever one of its inputs changes (check,
both verify modes, blind answerability) and stored in instructions.risk.
"""

from __future__ import annotations

from core.pipeline.textutil import length_units
from core.store import quality as store
from core.store.pipeline import BLIND_FLAG, CAPTION_FLAG, UNTELLABLE_FLAG, VERIFY_FLAG

# Per check rule: the chance that an item with this flag is defective. A rule missing here
# counts DEFAULT_WEIGHT (a rule added later still raises the risk).
RULE_WEIGHTS = {
    "empty_field": 0.9,
    "truncated": 0.8,
    "placeholder": 0.8,
    "special_token": 0.8,
    "template_words": 0.8,
    "letter_prefix": 0.8,
    "judgement_form": 0.7,
    "either_or_answer": 0.7,
    "meta_answer": 0.8,
    "statement_as_question": 0.7,
    "mc_options": 0.8,
    "mc_answer": 0.8,
    "judgement_answer": 0.7,
    "options_copy_question": 0.7,
    "same_answer": 0.6,
    "leakage": 0.6,
    "language_mismatch": 0.6,
    "answer_in_question": 0.5,
    "not_in_caption": 0.4,
    "near_duplicate": 0.35,
    "copies_caption": 0.3,
    "short_length": 0.3,
    "long_length": 0.3,
    "judgement_balance": 0.15,
}
DEFAULT_WEIGHT = 0.5
MODEL_WEIGHTS = {VERIFY_FLAG: 0.5, CAPTION_FLAG: 0.5, UNTELLABLE_FLAG: 0.4}
BLIND_WEIGHT = 0.3  # times the blind score: easy without the image is a weakness, not an error
ODD_LENGTH_WEIGHT = 0.25
QUESTION_UNITS = {"en": (4, 60), "zh": (5, 90)}  # shorter or longer questions are odd


def risk_parts(row: store.RiskInputs) -> list[tuple[str, float]]:
    """Each signal that raises this item's risk with its chance, (signal, weight), rounded
    for display: a check rule's name, `verify_disagree`, `caption_disagree`,
    `caption_untellable`, `blind` or `odd_length`. The review pane shows them."""
    return [(name, round(w, 3)) for name, w in _signals(row)]


def _signals(row: store.RiskInputs) -> list[tuple[str, float]]:
    parts = [
        (name, RULE_WEIGHTS.get(name, DEFAULT_WEIGHT))
        for name in row.check_flags
        if name not in MODEL_WEIGHTS and name != BLIND_FLAG
    ]
    if row.verify_agree is False:
        parts.append((VERIFY_FLAG, MODEL_WEIGHTS[VERIFY_FLAG] * _apart(row.verify_score)))
    if row.caption_untellable:
        parts.append((UNTELLABLE_FLAG, MODEL_WEIGHTS[UNTELLABLE_FLAG]))
    elif row.caption_agree is False:
        parts.append((CAPTION_FLAG, MODEL_WEIGHTS[CAPTION_FLAG]))
    if row.blind_score:
        parts.append(("blind", BLIND_WEIGHT * row.blind_score))
    low, high = QUESTION_UNITS.get(row.lang, QUESTION_UNITS["en"])
    if not low <= length_units(row.question, row.lang) <= high:
        parts.append(("odd_length", ODD_LENGTH_WEIGHT))
    return [(name, min(max(w, 0.0), 1.0)) for name, w in parts]


def risk_score(row: store.RiskInputs) -> float:
    keep = 1.0
    for _name, w in _signals(row):
        keep *= 1.0 - w
    return round(1.0 - keep, 3)


def _apart(score: float | None) -> float:
    """1 for answers that share nothing, less for a near miss (similarity just under the bar)."""
    return 1.0 if score is None else max(0.2, 1.0 - score)


def refresh_risk(db, ids=None) -> int:
    """Recompute and store the risk of these items (all when None); returns how many."""
    rows = store.risk_inputs(db, ids)
    store.save_risk(db, [(r.id, risk_score(r)) for r in rows])
    return len(rows)
