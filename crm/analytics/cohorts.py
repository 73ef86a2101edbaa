"""How a customer compares with customers like them, without exposing any individual.

A cohort is a group of customers sharing a key (e.g. signup quarter and region). Its
figures are released only when it has at least k members with a value (k-anonymity):
smaller cohorts get no median and no percentile.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from crm.analytics._arrays import FloatArray

DEFAULT_K = 20


def _groups(
    cohort_keys: ArrayLike | Sequence[Hashable], values: ArrayLike, k: int
) -> tuple[np.ndarray, np.ndarray, FloatArray, np.ndarray]:
    """Distinct keys, each row's group (-1 without a value), the values, group sizes."""
    if k < 1:
        raise ValueError("k must be >= 1")
    keys = _as_key_array(cohort_keys)
    vals = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if keys.ndim != 1 or keys.shape != vals.shape:
        raise ValueError(
            "cohort_keys and values must be one-dimensional and of one length"
        )
    if np.any(np.isinf(vals)):
        raise ValueError("values must be finite (nan means: no value)")
    has_value = ~np.isnan(vals) & np.array(
        [key is not None for key in keys], dtype=bool
    )
    index = np.full(keys.size, -1, dtype=np.int64)
    lookup: dict[Hashable, int] = {}
    for i in np.flatnonzero(has_value):
        index[i] = lookup.setdefault(keys[i], len(lookup))
    distinct = np.empty(len(lookup), dtype=object)
    for key, position in lookup.items():
        distinct[position] = key
    sizes = np.bincount(index[index >= 0], minlength=len(lookup))
    return distinct, index, vals, sizes


def _as_key_array(cohort_keys: ArrayLike | Sequence[Hashable]) -> np.ndarray:
    """One object per customer; a list of tuples stays a list of tuple keys."""
    if isinstance(cohort_keys, np.ndarray) and cohort_keys.ndim == 1:
        return cohort_keys.astype(object)
    items = list(cohort_keys)  # type: ignore[arg-type]
    keys = np.empty(len(items), dtype=object)
    keys[:] = [tuple(k) if isinstance(k, list | np.ndarray) else k for k in items]
    return keys


def cohort_medians(
    cohort_keys: ArrayLike | Sequence[Hashable],
    values: ArrayLike,
    *,
    k: int = DEFAULT_K,
) -> dict[Hashable, float]:
    """Median value per cohort of at least k members with a value; others left out.

    cohort_keys: one hashable key per customer (None: in no cohort); values: the measure
    (nan: no value, not counted).
    """
    distinct, index, vals, sizes = _groups(cohort_keys, values, k)
    rows = np.flatnonzero(index >= 0)
    order = rows[np.lexsort((vals[rows], index[rows]))]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    medians: dict[Hashable, float] = {}
    for group in np.flatnonzero(sizes >= k):
        members = vals[order[starts[group] : starts[group] + sizes[group]]]
        medians[distinct[group]] = float(np.median(members))
    return medians


def cohort_percentiles(
    cohort_keys: ArrayLike | Sequence[Hashable],
    values: ArrayLike,
    *,
    k: int = DEFAULT_K,
) -> FloatArray:
    """Each customer's percentile (0..100) within their cohort; nan below k members.

    Percentile = 100 * (members with a lower value + half of the others with an
    equal value) / (members - 1): the lowest is 0, the highest 100, ties share one.
    nan for customers without a value or key, or in a cohort of fewer than k (or 2).
    """
    _, index, vals, sizes = _groups(cohort_keys, values, k)
    result = np.full(vals.size, np.nan)
    rows = np.flatnonzero(index >= 0)
    eligible = rows[(sizes[index[rows]] >= max(k, 2))]
    if eligible.size == 0:
        return result
    groups = index[eligible]
    order = np.lexsort((vals[eligible], groups))
    sorted_groups = groups[order]
    sorted_vals = vals[eligible][order]
    # Positions of equal (group, value) runs in the sorted order.
    left = _search_pairs(
        sorted_groups, sorted_vals, groups, vals[eligible], side="left"
    )
    right = _search_pairs(
        sorted_groups, sorted_vals, groups, vals[eligible], side="right"
    )
    group_start = np.searchsorted(sorted_groups, groups, side="left")
    below = left - group_start
    equal_others = right - left - 1
    n = sizes[groups]
    result[eligible] = 100.0 * (below + 0.5 * equal_others) / (n - 1)
    return result


def _search_pairs(
    sorted_groups: np.ndarray,
    sorted_vals: FloatArray,
    groups: np.ndarray,
    vals: FloatArray,
    *,
    side: str,
) -> np.ndarray:
    """searchsorted over (group, value) pairs sorted lexicographically."""
    # Map each pair to one float key that keeps the order: rank of value within all.
    all_vals = np.unique(sorted_vals)
    width = all_vals.size + 1
    sorted_key = sorted_groups * width + np.searchsorted(all_vals, sorted_vals)
    key = groups * width + np.searchsorted(all_vals, vals)
    return np.searchsorted(sorted_key, key, side=side)  # type: ignore[call-overload]
