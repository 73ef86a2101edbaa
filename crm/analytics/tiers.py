"""Loyalty tiers: a ladder of thresholds over one measure (e.g. 12-month spend).

A customer is in the highest tier whose threshold they reach; below the first threshold
they are in no tier (index -1). Progress is the share of the way from the current
threshold (0 below the first tier) to the next one; 1.0 in the top tier.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from crm.analytics._arrays import FloatArray, IntArray, as_float


@dataclass(frozen=True)
class TierLadder:
    """Tiers as (name, threshold), lowest first; thresholds in the measure's unit."""

    tiers: tuple[tuple[str, float], ...]

    def __init__(self, tiers: Iterable[Sequence[object]]):
        items = tuple((str(name), float(threshold)) for name, threshold in tiers)  # type: ignore[arg-type]
        if not items:
            raise ValueError("a tier ladder needs at least one tier")
        names = [name for name, _ in items]
        if any(not name.strip() for name in names):
            raise ValueError("tier names must not be blank")
        if len(set(names)) != len(names):
            raise ValueError("tier names must be unique")
        thresholds = [threshold for _, threshold in items]
        if not all(math.isfinite(t) for t in thresholds):
            raise ValueError("tier thresholds must be finite numbers")
        if any(b <= a for a, b in itertools.pairwise(thresholds)):
            raise ValueError("tier thresholds must be strictly increasing")
        object.__setattr__(self, "tiers", items)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.tiers)

    @property
    def thresholds(self) -> FloatArray:
        return np.array([threshold for _, threshold in self.tiers], dtype=np.float64)


def tier_for(
    values: ArrayLike, ladder: TierLadder
) -> tuple[IntArray, FloatArray, FloatArray]:
    """(tier_index, next_threshold, progress) per value.

    tier_index: position in the ladder, -1 below the first threshold. next_threshold:
    the threshold of the next tier up, nan in the top tier. progress: 0..1 from the
    current threshold (or 0 below the first tier) to next_threshold; 1.0 at the top.
    """
    v = as_float(values, "values")
    thresholds = ladder.thresholds
    index = np.searchsorted(thresholds, v, side="right") - 1
    top = index == thresholds.size - 1
    next_index = np.minimum(index + 1, thresholds.size - 1)
    next_threshold = np.where(top, np.nan, thresholds[next_index])
    lower = np.where(index >= 0, thresholds[np.maximum(index, 0)], np.minimum(0.0, v))
    span = np.where(top, 1.0, thresholds[next_index] - lower)
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(top, 1.0, np.where(span > 0, (v - lower) / span, 0.0))
    return index.astype(np.int64), next_threshold, np.clip(progress, 0.0, 1.0)
