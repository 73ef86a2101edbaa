"""Predicted customer lifetime value: BG/NBD purchases x Gamma-Gamma spend, discounted.

CLV = margin * E[spend per purchase] * sum over k of
      (E[purchases by t_k] - E[purchases by t_(k-1)]) / (1 + d)^(t_k)
with t_k = k * step (the last one capped at the horizon). Time is in the unit of T used
to fit BG/NBD (weeks for CDNOW): horizon_periods, step and the discount rate per period
are all in that unit. Money is in the unit of zbar. See docs/analytics.md.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from crm.analytics._arrays import FloatArray, as_float, customer_arrays
from crm.analytics.bgnbd import BGNBDParams, _active_expectation, probability_alive
from crm.analytics.gamma_gamma import GammaGammaParams, expected_spend


def discount_times(horizon_periods: float, step: float) -> FloatArray:
    """The cash-flow times t_1 < ... < t_K = horizon: multiples of step, capped."""
    if not (math.isfinite(horizon_periods) and horizon_periods > 0):
        raise ValueError("horizon_periods must be a positive number")
    if not (math.isfinite(step) and step > 0):
        raise ValueError("step must be a positive number")
    count = math.ceil(horizon_periods / step - 1e-9)
    return np.minimum(np.arange(1, count + 1, dtype=np.float64) * step, horizon_periods)


def predicted_clv(
    bg: BGNBDParams,
    gg: GammaGammaParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    zbar: ArrayLike,
    *,
    horizon_periods: float,
    discount_rate_per_period: float,
    margin: ArrayLike = 1.0,
    step: float = 1,
) -> FloatArray:
    """Discounted expected value of each customer over the next horizon_periods.

    x, t_x, T: as for BG/NBD (time unit of the fit); zbar: mean repeat-purchase value
    (money; ignored where x = 0). horizon_periods and step: in the same time unit as T
    (e.g. 52 and 1 for a year in weekly steps). discount_rate_per_period: per time unit
    (a yearly rate of 10% with weeks is 1.10 ** (1/52) - 1). margin: share of revenue
    kept as profit (1.0 gives revenue), scalar or one per customer. Purchases expected
    in (t_(k-1), t_k] are discounted as if made at t_k. Result in money units; nan
    where the spend model has no finite mean for a customer with x = 0 (q <= 1).
    """
    if not (math.isfinite(discount_rate_per_period) and discount_rate_per_period > -1):
        raise ValueError("discount_rate_per_period must be a number > -1")
    xs, txs, Ts = customer_arrays(x, t_x, T)
    margins = as_float(margin, "margin")
    times = discount_times(horizon_periods, step)
    spend = expected_spend(gg, xs, np.broadcast_to(as_float(zbar, "zbar"), xs.shape))
    alive = probability_alive(bg, xs, txs, Ts)
    # The expectation for an active customer depends on (x, T) only: evaluate per pair.
    pairs, inverse = np.unique(np.stack([xs, Ts], axis=1), axis=0, return_inverse=True)
    discounted = np.zeros(pairs.shape[0])
    previous = np.zeros(pairs.shape[0])
    for t in times:
        cumulative = _active_expectation(
            bg, np.full(pairs.shape[0], t), pairs[:, 0], pairs[:, 1]
        )
        discounted += (cumulative - previous) / (1.0 + discount_rate_per_period) ** t
        previous = cumulative
    purchases = discounted[inverse.ravel()] * alive
    return np.asarray(purchases * spend * margins, dtype=np.float64)
