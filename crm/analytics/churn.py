"""Churn risk bands from the BG/NBD probability of being active.

A low probability of being active means a high risk of having churned:
P(alive) < high -> "high", < medium -> "medium", otherwise "low" (defaults 0.3 and 0.6).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crm.analytics._arrays import as_float


class ChurnRisk(StrEnum):
    """Churn risk band, from the probability that the customer is still active."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# Order of severity: a move to a later band is a rise in risk.
RISK_ORDER: tuple[ChurnRisk, ...] = (ChurnRisk.LOW, ChurnRisk.MEDIUM, ChurnRisk.HIGH)
_RANK = {band.value: rank for rank, band in enumerate(RISK_ORDER)}

# Risk bands per customer; None or "" where there is none.
Bands = Sequence[str | None] | NDArray[np.object_]


def churn_band(
    p_alive: ArrayLike, *, high: float = 0.3, medium: float = 0.6
) -> NDArray[np.object_]:
    """Risk band: "high" if p_alive < high, "medium" if < medium, else "low".

    p_alive: probability of being active, in [0, 1]. 0 <= high <= medium <= 1.
    """
    if not (0.0 <= high <= medium <= 1.0):
        raise ValueError("thresholds must satisfy 0 <= high <= medium <= 1")
    p = as_float(p_alive, "p_alive")
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError("p_alive must lie in [0, 1]")
    bands = np.full(p.size, ChurnRisk.LOW.value, dtype=object)
    bands[p < medium] = ChurnRisk.MEDIUM.value
    bands[p < high] = ChurnRisk.HIGH.value
    return bands


def _ranks(bands: Bands, name: str) -> NDArray[np.int64]:
    """Severity rank per band; -1 where there is none (None or "": no earlier value)."""
    values = np.atleast_1d(np.asarray(bands, dtype=object))
    ranks = np.empty(values.size, dtype=np.int64)
    for i, value in enumerate(values):
        if value is None or value == "":
            ranks[i] = -1
        elif str(value) in _RANK:
            ranks[i] = _RANK[str(value)]
        else:
            raise ValueError(f"{name} holds an unknown risk band: {value!r}")
    return ranks


def crossed(
    previous_band: Bands, current_band: Bands, *, into: str | None = None
) -> NDArray[np.bool_]:
    """True where churn risk rose from previous_band to current_band.

    A customer with no previous band (None or "") has not crossed anything. With
    into="high" (or "medium") only rises that end in that band or above count, e.g.
    defections = crossed(before, now, into="high").
    """
    before = _ranks(previous_band, "previous_band")
    after = _ranks(current_band, "current_band")
    if before.shape != after.shape:
        raise ValueError(
            "previous_band and current_band must have one value per customer"
        )
    if np.any(after < 0):
        raise ValueError("current_band must hold a risk band for every customer")
    rose = (before >= 0) & (after > before)
    if into is not None:
        if into not in _RANK:
            raise ValueError(f"unknown risk band: {into!r}")
        rose &= after >= _RANK[into]
    return np.asarray(rose, dtype=np.bool_)
