"""Rank-based scores over a customer base (quintiles and other equal-width bands)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from crm.analytics._arrays import IntArray, as_float


def rank_scores(
    values: ArrayLike, bands: int = 5, *, higher_is_better: bool = True
) -> IntArray:
    """Score 1..bands: 1 + floor(bands * share of the base with a strictly worse value).

    Equal values always get equal scores (ties share the lowest rank), the result does
    not depend on input order, and without ties each score holds n/bands customers
    (sizes differ by at most one). values must be finite.
    """
    if bands < 1:
        raise ValueError("bands must be >= 1")
    array = as_float(values, "values")
    if not higher_is_better:
        array = -array
    n = array.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # Number of values strictly below each value = its insertion point in sorted order.
    worse = np.searchsorted(np.sort(array), array, side="left")
    return np.asarray(1 + (bands * worse) // n, dtype=np.int64)


def quintile_scores(values: ArrayLike, *, higher_is_better: bool = True) -> IntArray:
    """Quintile scores 1..5 over the base: 5 = the best fifth (see rank_scores)."""
    return rank_scores(values, 5, higher_is_better=higher_is_better)


def round_half_up(values: ArrayLike) -> IntArray:
    """Round to the nearest whole number, halves upwards (2.5 -> 3), as integers."""
    return np.asarray(
        np.floor(np.asarray(values, dtype=np.float64) + 0.5), dtype=np.int64
    )
