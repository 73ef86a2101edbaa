"""Competence-based classification: what a customer is worth, how to work with them.

Three scores 1..5 per customer (profitability, loyalty, strategic value), the value
group they imply, the customer's willingness to take part (1..5, from
customer-initiated interactions) and the value-creation mode (supply, customization or
cooperation) chosen from importance and willingness in ONE table,
VALUE_CREATION_MODES. See docs/analytics.md.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crm.analytics._arrays import FloatArray, IntArray, as_float
from crm.analytics.scores import quintile_scores, rank_scores, round_half_up

__all__ = [
    "LOYALTY_WEIGHTS",
    "MODE_REASONS",
    "PARTICIPATION_WEIGHTS",
    "VALUE_CREATION_MODES",
    "VALUE_GROUP_HIGH",
    "Band",
    "ValueCreationMode",
    "ValueGroup",
    "active_scores",
    "importance_scores",
    "loyalty_from_components",
    "loyalty_scores",
    "participation",
    "profitability_scores",
    "quintile_scores",
    "score_bands",
    "strategic_default_scores",
    "value_creation_matrix_markdown",
    "value_creation_modes",
    "value_groups",
    "willingness_scores",
]


class ValueGroup(StrEnum):
    """Which kind of value a customer brings the firm (firm-only, confidential)."""

    PROFITABLE = "profitable"
    LOYAL = "loyal"
    STRATEGIC = "strategic"
    LOW_VALUE = "low_value"


class ValueCreationMode(StrEnum):
    """How the firm should create value with a customer."""

    SUPPLY = "supply"
    CUSTOMIZATION = "customization"
    COOPERATION = "cooperation"


class Band(StrEnum):
    """A 1..5 score in three bands: low 1-2, medium 3, high 4-5."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# A score from this value up counts as "high" for the value groups and the bands.
VALUE_GROUP_HIGH = 4

# Loyalty = weighted mean of three 1..5 components, rounded half up (weights sum to 1).
LOYALTY_WEIGHTS: dict[str, float] = {
    "tenure": 0.25,  # quintile of time since the first purchase
    "repeat": 0.35,  # quintile of repeat purchases
    "active": 0.40,  # P(alive) in fifths: 1 + floor(5 * p), capped at 5
}

# Willingness to take part: weighted count of customer-initiated interactions.
PARTICIPATION_WEIGHTS: dict[str, float] = {
    "feedback": 2.0,  # ratings, reviews, suggestions: the customer shares knowledge
    "corrections": 2.0,  # the customer fixes the firm's data about them
    "inbound_contacts": 1.0,  # the customer reaches out
    "self_service": 0.5,  # frequent and low effort, so each counts less
}

_B = Band
_M = ValueCreationMode
# THE matrix: (importance band, willingness band) -> value-creation mode.
VALUE_CREATION_MODES: dict[tuple[Band, Band], ValueCreationMode] = {
    (_B.LOW, _B.LOW): _M.SUPPLY,
    (_B.LOW, _B.MEDIUM): _M.SUPPLY,
    (_B.LOW, _B.HIGH): _M.COOPERATION,
    (_B.MEDIUM, _B.LOW): _M.SUPPLY,
    (_B.MEDIUM, _B.MEDIUM): _M.CUSTOMIZATION,
    (_B.MEDIUM, _B.HIGH): _M.COOPERATION,
    (_B.HIGH, _B.LOW): _M.CUSTOMIZATION,
    (_B.HIGH, _B.MEDIUM): _M.CUSTOMIZATION,
    (_B.HIGH, _B.HIGH): _M.COOPERATION,
}

MODE_REASONS: dict[ValueCreationMode, str] = {
    _M.SUPPLY: (
        "Standard offer through efficient channels, for customers of low or middling "
        "importance who take little part: tailoring would cost more than it returns."
    ),
    _M.CUSTOMIZATION: (
        "Tailored offers made by the firm: the customer is important but takes little "
        "part, so the firm uses what it knows about them."
    ),
    _M.COOPERATION: (
        "Co-creation: the customer takes an active part (feedback, corrections, "
        "self-service), so the firm develops offers with them."
    ),
}


def _scores_1_to_5(values: ArrayLike, name: str) -> IntArray:
    array = as_float(values, name)
    if np.any(array != np.floor(array)) or np.any(array < 1) or np.any(array > 5):
        raise ValueError(f"{name} must be whole numbers 1..5")
    return array.astype(np.int64)


def score_bands(scores: ArrayLike) -> NDArray[np.object_]:
    """Band per 1..5 score: "low" (1-2), "medium" (3), "high" (4-5)."""
    names = np.array([band.value for band in Band], dtype=object)
    return np.asarray(
        names[_band_index(_scores_1_to_5(scores, "scores"))], dtype=object
    )


def profitability_scores(margin: ArrayLike) -> IntArray:
    """Quintile over the base of margin (net revenue minus cost to serve, money)."""
    return quintile_scores(margin)


def active_scores(p_alive: ArrayLike) -> IntArray:
    """P(alive) in fifths, 1..5: 1 + floor(5 * p), capped at 5 (an absolute scale)."""
    p = as_float(p_alive, "p_alive")
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError("p_alive must lie in [0, 1]")
    return np.minimum(1 + np.floor(5 * p).astype(np.int64), 5)


def loyalty_from_components(
    tenure_score: ArrayLike, repeat_score: ArrayLike, p_alive: ArrayLike
) -> IntArray:
    """Loyalty 1..5 from tenure and repeat scores (1..5) already computed, and P(alive).

    The weighted mean of LOYALTY_WEIGHTS, rounded half up. For incremental updates
    that read the tenure and repeat quintiles from the cut points of the last refresh.
    """
    tenure = _scores_1_to_5(tenure_score, "tenure_score")
    repeat = _scores_1_to_5(repeat_score, "repeat_score")
    active = active_scores(p_alive)
    if not (tenure.shape == repeat.shape == active.shape):
        raise ValueError("loyalty inputs must have one value per customer")
    w = LOYALTY_WEIGHTS
    mean = w["tenure"] * tenure + w["repeat"] * repeat + w["active"] * active
    return np.clip(round_half_up(mean), 1, 5)


def loyalty_scores(
    tenure_days: ArrayLike, repeat_purchases: ArrayLike, p_alive: ArrayLike
) -> IntArray:
    """Loyalty 1..5: weighted mean of tenure and repeat quintiles and P(alive) fifths.

    tenure_days: days since the first purchase (or since the customer joined);
    repeat_purchases: purchases after the first; p_alive: BG/NBD probability of being
    active, in [0, 1]. Quintiles over the customers passed; weights in LOYALTY_WEIGHTS.
    """
    return loyalty_from_components(
        quintile_scores(tenure_days), quintile_scores(repeat_purchases), p_alive
    )


def strategic_default_scores(predicted_value: ArrayLike) -> IntArray:
    """Default strategic value 1..5: the quintile of predicted lifetime value.

    Staff may set another score with a reason; this rule applies where they have not.
    """
    return quintile_scores(predicted_value)


def value_groups(
    profitability: ArrayLike, loyalty: ArrayLike, strategic: ArrayLike
) -> NDArray[np.object_]:
    """Value group per customer; the first that applies wins.

    1. "profitable": profitability >= 4 (the customer pays off today);
    2. "strategic": strategic value >= 4 (matters for the future, even if not yet
       profitable);
    3. "loyal": loyalty >= 4 (stays and comes back, without high margin or strategic
       weight);
    4. "low_value": none of these.
    """
    prof = _scores_1_to_5(profitability, "profitability")
    loy = _scores_1_to_5(loyalty, "loyalty")
    strat = _scores_1_to_5(strategic, "strategic")
    if not (prof.shape == loy.shape == strat.shape):
        raise ValueError("scores must have one value per customer")
    groups = np.full(prof.size, ValueGroup.LOW_VALUE.value, dtype=object)
    # Assign in reverse precedence so that the higher rule overwrites.
    groups[loy >= VALUE_GROUP_HIGH] = ValueGroup.LOYAL.value
    groups[strat >= VALUE_GROUP_HIGH] = ValueGroup.STRATEGIC.value
    groups[prof >= VALUE_GROUP_HIGH] = ValueGroup.PROFITABLE.value
    return groups


def importance_scores(profitability: ArrayLike, strategic: ArrayLike) -> IntArray:
    """Importance to the firm 1..5: the higher of profitability and strategic value."""
    prof = _scores_1_to_5(profitability, "profitability")
    strat = _scores_1_to_5(strategic, "strategic")
    return np.maximum(prof, strat)


def participation(
    feedback: ArrayLike,
    inbound_contacts: ArrayLike,
    corrections: ArrayLike,
    self_service: ArrayLike,
) -> FloatArray:
    """Weighted count of customer-initiated interactions (PARTICIPATION_WEIGHTS)."""
    arrays = {
        "feedback": as_float(feedback, "feedback"),
        "inbound_contacts": as_float(inbound_contacts, "inbound_contacts"),
        "corrections": as_float(corrections, "corrections"),
        "self_service": as_float(self_service, "self_service"),
    }
    if len({a.shape for a in arrays.values()}) != 1:
        raise ValueError("interaction counts must have one value per customer")
    if any(np.any(a < 0) for a in arrays.values()):
        raise ValueError("interaction counts must be >= 0")
    weighted = np.zeros_like(arrays["feedback"])
    for name, counts in arrays.items():
        weighted += PARTICIPATION_WEIGHTS[name] * counts
    return weighted


def willingness_scores(
    feedback: ArrayLike,
    inbound_contacts: ArrayLike,
    corrections: ArrayLike,
    self_service: ArrayLike,
) -> IntArray:
    """Willingness to take part, 1..5, from counts of customer-initiated interactions.

    Counts over the analysis window, weighted by PARTICIPATION_WEIGHTS. Customers with
    none score 1; the others score 2..5 by quartile of their weighted count among the
    customers who took part (ties score alike).
    """
    weighted = participation(feedback, inbound_contacts, corrections, self_service)
    scores = np.ones(weighted.size, dtype=np.int64)
    took_part = weighted > 0
    scores[took_part] = 1 + rank_scores(weighted[took_part], 4)
    return scores


def value_creation_modes(
    importance: ArrayLike, willingness: ArrayLike
) -> NDArray[np.object_]:
    """Value-creation mode per customer from importance and willingness (1..5)."""
    imp = _band_index(_scores_1_to_5(importance, "importance"))
    will = _band_index(_scores_1_to_5(willingness, "willingness"))
    if imp.shape != will.shape:
        raise ValueError("importance and willingness must have one value per customer")
    return np.asarray(_MODE_GRID[imp, will], dtype=object)


def _band_index(scores: IntArray) -> IntArray:
    """0 for low (1-2), 1 for medium (3), 2 for high (4-5): the index in list(Band)."""
    return np.asarray(
        (scores >= 3).astype(np.int64) + (scores >= VALUE_GROUP_HIGH), dtype=np.int64
    )


_MODE_GRID = np.array(
    [[VALUE_CREATION_MODES[(i, w)].value for w in Band] for i in Band], dtype=object
)


def value_creation_matrix_markdown() -> str:
    """VALUE_CREATION_MODES as Markdown (rows: importance, columns: willingness)."""
    bands = list(Band)
    header = "| Importance \\ willingness | " + " | ".join(
        f"{b.value} ({_band_scores(b)})" for b in bands
    )
    lines = [header + " |", "|---" * (len(bands) + 1) + "|"]
    for importance in reversed(bands):
        cells = " | ".join(VALUE_CREATION_MODES[(importance, w)].value for w in bands)
        lines.append(f"| {importance.value} ({_band_scores(importance)}) | {cells} |")
    lines.append("")
    for mode in ValueCreationMode:
        lines.append(f"- **{mode.value}**: {MODE_REASONS[mode]}")
    return "\n".join(lines) + "\n"


def _band_scores(band: Band) -> str:
    return {Band.LOW: "1-2", Band.MEDIUM: "3", Band.HIGH: "4-5"}[band]
