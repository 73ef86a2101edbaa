"""RFM: recency, frequency and monetary quintile scores and the named customer cells.

Inputs per customer over the analysis window: recency_days = days since the last
purchase, frequency = number of purchases, monetary = spend (money, e.g. net revenue).
Scores are quintiles over the customers who bought in the window (see
crm.analytics.scores.rank_scores); customers with no purchase score r = f = m = 1.
Cells are looked up from R and FM = (F + M) / 2 rounded half up. See docs/analytics.md.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crm.analytics._arrays import IntArray, as_float
from crm.analytics.scores import quintile_scores


class RfmCell(StrEnum):
    """The named RFM cells."""

    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALIST = "potential_loyalist"
    NEW = "new"
    PROMISING = "promising"
    NEED_ATTENTION = "need_attention"
    ABOUT_TO_SLEEP = "about_to_sleep"
    AT_RISK = "at_risk"
    CANNOT_LOSE = "cannot_lose"
    HIBERNATING = "hibernating"
    LOST = "lost"


_C = RfmCell
# THE cell table: rows R = 5..1 (5 = bought most recently), columns FM = 1..5.
RFM_CELL_GRID: tuple[tuple[RfmCell, ...], ...] = (
    # FM:  1                  2                      3                  4              5
    (_C.NEW, _C.POTENTIAL_LOYALIST, _C.LOYAL, _C.CHAMPIONS, _C.CHAMPIONS),  # R=5
    (_C.PROMISING, _C.POTENTIAL_LOYALIST, _C.LOYAL, _C.CHAMPIONS, _C.CHAMPIONS),  # R=4
    (
        _C.ABOUT_TO_SLEEP,
        _C.ABOUT_TO_SLEEP,
        _C.NEED_ATTENTION,
        _C.LOYAL,
        _C.LOYAL,
    ),  # R=3
    (
        _C.HIBERNATING,
        _C.HIBERNATING,
        _C.NEED_ATTENTION,
        _C.AT_RISK,
        _C.CANNOT_LOSE,
    ),  # R=2
    (_C.LOST, _C.HIBERNATING, _C.AT_RISK, _C.AT_RISK, _C.CANNOT_LOSE),  # R=1
)

# Firm-facing meaning, and the label a customer may read (neutral wording).
RFM_CELL_DESCRIPTIONS: dict[RfmCell, tuple[str, str]] = {
    _C.CHAMPIONS: (
        "Bought recently, buys often and spends the most.",
        "One of our most active customers",
    ),
    _C.LOYAL: ("Buys regularly and spends well.", "A loyal, regular customer"),
    _C.POTENTIAL_LOYALIST: (
        "Recent customer with a few purchases; could become loyal.",
        "A regular customer of late",
    ),
    _C.NEW: ("Bought very recently, for the first time or rarely.", "A new customer"),
    _C.PROMISING: ("Recent buyer with little spend so far.", "A recent customer"),
    _C.NEED_ATTENTION: (
        "Average recency, frequency and spend; may slip without attention.",
        "A valued customer",
    ),
    _C.ABOUT_TO_SLEEP: (
        "Below average recency and activity; will be lost if not reactivated.",
        "It has been a little while since your last purchase",
    ),
    _C.AT_RISK: (
        "Bought often and spent well, but long ago.",
        "A valued customer we would be glad to see again",
    ),
    _C.CANNOT_LOSE: (
        "Among the biggest and most frequent buyers, but not seen for a long time.",
        "One of our most valued customers",
    ),
    _C.HIBERNATING: (
        "Last purchase long ago, with few purchases and low spend.",
        "It has been a while since your last purchase",
    ),
    _C.LOST: (
        "Lowest recency, frequency and spend (or no purchase).",
        "Welcome back any time",
    ),
}


def customer_label(cell: RfmCell | str) -> str:
    """The customer-facing wording for a cell."""
    return RFM_CELL_DESCRIPTIONS[RfmCell(cell)][1]


def rfm_scores(
    recency_days: ArrayLike, frequency: ArrayLike, monetary: ArrayLike
) -> tuple[IntArray, IntArray, IntArray]:
    """Quintile scores (r, f, m), each 1..5, one per customer.

    recency_days: days since the last purchase (any value, e.g. nan, where frequency is
    0); frequency: purchases in the window (>= 0); monetary: spend in the window. r = 5
    is the most recent fifth, f = 5 the most frequent, m = 5 the biggest spenders.
    Quintiles are over buyers (frequency > 0); the others get r = f = m = 1.
    """
    freq = as_float(frequency, "frequency")
    money = as_float(monetary, "monetary")
    recency = np.atleast_1d(np.asarray(recency_days, dtype=np.float64))
    if not (recency.shape == freq.shape == money.shape):
        raise ValueError(
            "recency_days, frequency and monetary must have one value per customer"
        )
    if np.any(freq < 0):
        raise ValueError("frequency must be >= 0")
    buyers = freq > 0
    if not np.all(np.isfinite(recency[buyers])) or np.any(recency[buyers] < 0):
        raise ValueError("recency_days must be a number >= 0 for customers who bought")
    r = np.ones(freq.size, dtype=np.int64)
    f = np.ones(freq.size, dtype=np.int64)
    m = np.ones(freq.size, dtype=np.int64)
    r[buyers] = quintile_scores(recency[buyers], higher_is_better=False)
    f[buyers] = quintile_scores(freq[buyers])
    m[buyers] = quintile_scores(money[buyers])
    return r, f, m


def fm_scores(f: ArrayLike, m: ArrayLike) -> IntArray:
    """FM = (F + M) / 2 rounded half up, 1..5."""
    fs = np.asarray(f, dtype=np.int64)
    ms = np.asarray(m, dtype=np.int64)
    return np.asarray((fs + ms + 1) // 2, dtype=np.int64)


_GRID_CODES = np.array(
    [[list(RfmCell).index(cell) for cell in row] for row in RFM_CELL_GRID],
    dtype=np.int64,
)
_CELL_NAMES = np.array([cell.value for cell in RfmCell], dtype=object)


def rfm_cells(r: ArrayLike, f: ArrayLike, m: ArrayLike) -> NDArray[np.object_]:
    """The named cell (RfmCell value) of each customer from scores 1..5."""
    rs, fs, ms = (np.atleast_1d(np.asarray(v)) for v in (r, f, m))
    for name, scores in (("r", rs), ("f", fs), ("m", ms)):
        if scores.size and (
            not np.all(np.equal(np.mod(scores, 1), 0))
            or scores.min() < 1
            or scores.max() > 5
        ):
            raise ValueError(f"{name} scores must be whole numbers 1..5")
    rs, fs, ms = np.broadcast_arrays(
        rs.astype(np.int64), fs.astype(np.int64), ms.astype(np.int64)
    )
    codes = _GRID_CODES[5 - rs, fm_scores(fs, ms) - 1]
    return np.asarray(_CELL_NAMES[codes], dtype=object)
