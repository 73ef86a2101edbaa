"""Input checks shared by the analytics models."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def as_float(values: ArrayLike, name: str) -> FloatArray:
    """`values` as a 1-D float array; ValueError when it holds NaN or infinity."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers")
    return array


def customer_arrays(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated, broadcast (x, t_x, T) for the purchase models.

    x: repeat purchases (>= 0, whole numbers); t_x: time of the last repeat purchase
    after the first purchase (0 when x = 0); T: time from the first purchase to now.
    0 <= t_x <= T, in one time unit.
    """
    xs = as_float(x, "x")
    txs = as_float(t_x, "t_x")
    Ts = as_float(T, "T")
    xs, txs, Ts = np.broadcast_arrays(xs, txs, Ts)
    if np.any(xs < 0) or np.any(xs != np.floor(xs)):
        raise ValueError("x must be whole numbers >= 0")
    if np.any(txs < 0) or np.any(txs > Ts):
        raise ValueError("t_x must lie between 0 and T")
    if np.any((xs == 0) & (txs != 0)):
        raise ValueError("t_x must be 0 when x is 0")
    return xs.copy(), txs.copy(), Ts.copy()
