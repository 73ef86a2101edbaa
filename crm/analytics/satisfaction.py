"""Satisfaction: Net Promoter Score and CSAT from rating interactions.

NPS (Reichheld 2003): ratings 0..10 to "how likely are you to recommend us?";
promoters rate 9-10, detractors 0-6; NPS = % promoters - % detractors, in -100..100.
CSAT: ratings 1..5; the share of satisfied ratings (4 or 5), in percent 0..100.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from crm.analytics._arrays import FloatArray, as_float

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
NPS_MIN, NPS_MAX = 0, 10
CSAT_SATISFIED_MIN = 4
CSAT_MIN, CSAT_MAX = 1, 5


def _ratings(ratings: ArrayLike, low: int, high: int, name: str) -> FloatArray:
    values = as_float(ratings, name)
    if (
        np.any(values != np.floor(values))
        or np.any(values < low)
        or np.any(values > high)
    ):
        raise ValueError(f"{name} ratings must be whole numbers {low}..{high}")
    return values


def nps(ratings: ArrayLike) -> float | None:
    """NPS of 0..10 ratings: % promoters - % detractors; None without ratings."""
    values = _ratings(ratings, NPS_MIN, NPS_MAX, "NPS")
    if values.size == 0:
        return None
    promoters = np.count_nonzero(values >= PROMOTER_MIN)
    detractors = np.count_nonzero(values <= DETRACTOR_MAX)
    return 100.0 * (promoters - detractors) / values.size


def csat(ratings: ArrayLike) -> float | None:
    """CSAT of 1..5 ratings: % of ratings >= 4; None if no rating."""
    values = _ratings(ratings, CSAT_MIN, CSAT_MAX, "CSAT")
    if values.size == 0:
        return None
    return 100.0 * np.count_nonzero(values >= CSAT_SATISFIED_MIN) / values.size


def nps_category(rating: int) -> str:
    """ "promoter", "passive" or "detractor" for one 0..10 rating."""
    value = int(_ratings([rating], NPS_MIN, NPS_MAX, "NPS")[0])
    if value >= PROMOTER_MIN:
        return "promoter"
    if value <= DETRACTOR_MAX:
        return "detractor"
    return "passive"


def nps_from_counts(
    promoters: ArrayLike, detractors: ArrayLike, total: ArrayLike
) -> FloatArray:
    """NPS per group from counts (e.g. per customer or segment from one SQL aggregate).

    promoters: ratings >= PROMOTER_MIN; detractors: ratings <= DETRACTOR_MAX; total: all
    0..10 ratings. nan where total is 0 (no score).
    """
    pro, det, tot = np.broadcast_arrays(
        _counts(promoters, "promoters"),
        _counts(detractors, "detractors"),
        _counts(total, "total"),
    )
    if np.any(pro + det > tot):
        raise ValueError("promoters + detractors must not exceed total")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tot > 0, 100.0 * (pro - det) / tot, np.nan)


def csat_from_counts(satisfied: ArrayLike, total: ArrayLike) -> FloatArray:
    """CSAT per group from counts: 100 * satisfied / total; nan where total is 0."""
    sat, tot = np.broadcast_arrays(
        _counts(satisfied, "satisfied"), _counts(total, "total")
    )
    if np.any(sat > tot):
        raise ValueError("satisfied must not exceed total")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tot > 0, 100.0 * sat / tot, np.nan)


def _counts(values: ArrayLike, name: str) -> FloatArray:
    counts = as_float(values, name)
    if np.any(counts < 0) or np.any(counts != np.floor(counts)):
        raise ValueError(f"{name} must be whole numbers >= 0")
    return counts
