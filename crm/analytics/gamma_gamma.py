"""Gamma-Gamma: how much a customer spends per purchase.

Fader, Hardie and Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", Journal of Marketing Research 42(4); Fader and Hardie (2013), "The
Gamma-Gamma Model of Monetary Value". A customer's purchase values are Gamma(p, nu)
around their own mean p/nu; nu varies across customers as Gamma(q, gamma). Money in one
currency unit (that of zbar, which becomes the unit of gamma). Assumes spend per
purchase is independent of how often the customer buys. See docs/analytics.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from crm.analytics._arrays import FloatArray, IntArray, as_float

_LOG_BOUND = 15.0


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters.

    p: shape of each customer's purchase-value distribution; q, gamma: shape and rate of
    the distribution of the customers' nu (gamma in money units). The population mean
    purchase value is p * gamma / (q - 1) when q > 1. log_likelihood: total at the fit.
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float

    def __post_init__(self) -> None:
        for name in ("p", "q", "gamma"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(
                    f"Gamma-Gamma parameter {name} must be a positive number"
                )

    @property
    def population_mean(self) -> float:
        """Mean purchase value of a random customer: p*gamma/(q-1); nan when q <= 1."""
        if self.q <= 1:
            return float("nan")
        return self.p * self.gamma / (self.q - 1)


def _spend_arrays(x: ArrayLike, zbar: ArrayLike) -> tuple[FloatArray, FloatArray]:
    xs = as_float(x, "x")
    zs = as_float(zbar, "zbar")
    xs, zs = np.broadcast_arrays(xs, zs)
    if np.any(xs < 0) or np.any(xs != np.floor(xs)):
        raise ValueError("x must be whole numbers >= 0")
    if np.any(zs[xs > 0] <= 0):
        raise ValueError("zbar must be > 0 for customers with x > 0")
    return xs.copy(), zs.copy()


def _log_likelihood(
    p: float, q: float, g: float, x: FloatArray, z: FloatArray
) -> FloatArray:
    px = p * x
    value = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(z)
        + px * np.log(x)
        - (px + q) * np.log(g + x * z)
    )
    return np.asarray(value, dtype=np.float64)


def log_likelihood(
    params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood of the mean value zbar of x purchases (x > 0 only).

    The density is that of zbar itself (a mean of x Gamma(p, nu) values).
    """
    xs, zs = _spend_arrays(x, zbar)
    if np.any(xs == 0):
        raise ValueError("the Gamma-Gamma likelihood is defined for x > 0 only")
    return _log_likelihood(params.p, params.q, params.gamma, xs, zs)


def _objective(
    theta: FloatArray, ux: FloatArray, index: IntArray, x: FloatArray, z: FloatArray
) -> tuple[float, FloatArray]:
    """Mean negative log-likelihood and its gradient in log-parameters.

    gammaln and digamma depend on x alone: they are evaluated once per distinct x (ux)
    and gathered with index.
    """
    p, q, g = np.exp(theta)
    upx = p * ux
    u_ll = gammaln(upx + q) - gammaln(upx) - gammaln(q)
    u_psi_pxq = digamma(upx + q)
    u_dp = ux * (u_psi_pxq - digamma(upx) + np.log(ux))
    u_dq = u_psi_pxq - digamma(q)
    px = p * x
    log_z = np.log(z)
    gxz = g + x * z
    log_gxz = np.log(gxz)
    ll = (
        u_ll[index]
        + q * np.log(g)
        + (px - 1) * log_z
        + px * np.log(x)
        - (px + q) * log_gxz
    )
    d_p = u_dp[index] + x * (log_z - log_gxz)
    d_q = u_dq[index] + np.log(g) - log_gxz
    d_g = q / g - (px + q) / gxz
    n = x.size
    grad = np.array([p * d_p.sum(), q * d_q.sum(), g * d_g.sum()])
    return float(-ll.sum() / n), -grad / n


def fit_gamma_gamma(x: ArrayLike, zbar: ArrayLike) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit.

    x: repeat purchases per customer; zbar: the mean value of those purchases (money).
    Customers with x = 0 carry no spend information and are left out of the fit.
    Raises ValueError when no customer has x > 0 or the fit fails.
    """
    xs, zs = _spend_arrays(x, zbar)
    keep = xs > 0
    xs, zs = xs[keep], zs[keep]
    if xs.size == 0:
        raise ValueError("cannot fit Gamma-Gamma: no customer made a repeat purchase")
    # Start from p = 1 and a mean purchase value equal to the observed one (q = 2).
    start = np.log(np.array([1.0, 2.0, float(np.mean(zs))]))
    result = minimize(
        _objective,
        start,
        args=(*np.unique(xs, return_inverse=True), xs, zs),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
        options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ValueError(f"Gamma-Gamma fit failed: {result.message}")
    p, q, g = (float(v) for v in np.exp(result.x))
    total = float(_log_likelihood(p, q, g, xs, zs).sum())
    return GammaGammaParams(p=p, q=q, gamma=g, log_likelihood=total)


def expected_spend(
    params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike
) -> FloatArray:
    """Expected value of a customer's future purchases, in the money unit of zbar.

    E[Z | x, zbar] = (p*(gamma + x*zbar)) / (p*x + q - 1): a weighted mean of the
    population mean p*gamma/(q-1) and the customer's own zbar, the weight on zbar
    growing with x. For x = 0 it is the population mean (nan when q <= 1: no finite
    mean exists). zbar is ignored where x = 0.
    """
    xs, zs = _spend_arrays(x, zbar)
    p, q, g = params.p, params.q, params.gamma
    zs = np.where(xs > 0, zs, 0.0)
    denominator = p * xs + q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(denominator > 0, p * (g + xs * zs) / denominator, np.nan)
    return np.asarray(value, dtype=np.float64)
