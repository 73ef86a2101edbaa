"""BG/NBD: how many purchases a customer will make, and whether they are still active.

Fader, Hardie and Lee (2005), "Counting Your Customers the Easy Way", Marketing Science
24(2). Per customer: x repeat purchases, the last at t_x, observed for T since the first
purchase, all in ONE time unit (the unit of T; alpha and every horizon t are in it too).
While active a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each
purchase they drop out with probability p ~ Beta(a, b). See docs/analytics.md.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import IntegrationWarning, quad
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1, xlog1py, xlogy

from crm.analytics._arrays import FloatArray, as_float, customer_arrays

# Log-parameters are kept in this box: wide enough for any real customer base, narrow
# enough that exp() and the special functions stay finite during the search.
_LOG_BOUND = 15.0
# The expectations are 0/0 at a = 1 (they divide by a - 1) and hit a pole of 2F1 at
# a + b = 1 for x = 0 (third parameter 0), though both limits are finite. There a and b
# are moved this far: the expectation is smooth in them, so the error is ~1e-7 relative.
_NUDGE = 1e-7


def _expectation_parameters(params: BGNBDParams) -> tuple[float, float, float, float]:
    """(r, alpha, a, b) moved off the removable singularities a = 1 and a + b = 1."""
    a, b = params.a, params.b
    if abs(a - 1.0) < _NUDGE:
        a = 1.0 + _NUDGE
    if abs(a + b - 1.0) < _NUDGE:
        b = 1.0 - a + _NUDGE
    return params.r, params.alpha, a, b


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted BG/NBD parameters.

    r, alpha: shape and rate of the Gamma distribution of purchase rates (alpha in the
    time unit of T; the mean rate is r / alpha purchases per unit). a, b: the Beta
    distribution of the drop-out probability after each purchase (mean a / (a + b)).
    log_likelihood: total log-likelihood of the data at these parameters.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def __post_init__(self) -> None:
        for name in ("r", "alpha", "a", "b"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"BG/NBD parameter {name} must be a positive number")


def _log_likelihood(
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
) -> FloatArray:
    """ln L = A1 + ln(exp(A2) + [x > 0] exp(A3)) per customer (FHL 2005, eq. 6)."""
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    # x - 1 is only meaningful where x > 0; elsewhere A3 is -inf (no such term).
    xm1 = np.where(repeat, x - 1, 0.0)
    a3 = np.where(
        repeat,
        betaln(a + 1, b + xm1) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return np.asarray(a1 + np.logaddexp(a2, a3), dtype=np.float64)


def log_likelihood(
    params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood of (x, t_x, T) under `params` (natural log)."""
    xs, txs, Ts = customer_arrays(x, t_x, T)
    return _log_likelihood(params.r, params.alpha, params.a, params.b, xs, txs, Ts)


class _Data:
    """Customers prepared for the likelihood.

    Customers without repeat purchases contribute r*log(alpha/(alpha+T)) only, so they
    are grouped by T. For the others, every term that depends on x alone (gammaln,
    betaln, digamma) is evaluated once per distinct x and gathered.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray):
        repeat = x > 0
        self.total = float(w.sum())
        self.T0, inverse0 = np.unique(T[~repeat], return_inverse=True)
        self.w0 = np.bincount(
            inverse0.ravel(), weights=w[~repeat], minlength=self.T0.size
        )
        self.x, self.t_x, self.T, self.w = x[repeat], t_x[repeat], T[repeat], w[repeat]
        self.ux, self.index = np.unique(self.x, return_inverse=True)


def _objective(theta: FloatArray, data: _Data) -> tuple[float, FloatArray]:
    """Mean negative log-likelihood per unit weight, and its gradient in log-params."""
    r, alpha, a, b = np.exp(theta)
    log_alpha = np.log(alpha)

    # x = 0: A1 + A2 = r * log(alpha / (alpha + T)); nothing depends on a or b.
    log_at0 = np.log(alpha + data.T0)
    ll_sum = r * np.dot(data.w0, log_alpha - log_at0)
    g_r = np.dot(data.w0, log_alpha - log_at0)
    g_alpha = np.dot(data.w0, r / alpha - r / (alpha + data.T0))
    g_a = 0.0
    g_b = 0.0

    if data.x.size:
        ux, idx = data.ux, data.index
        base_ab = betaln(a, b)
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + ux)
        # Per distinct x: the parts of A1, A2, A3 and of their derivatives.
        u_a1 = gammaln(r + ux) - gammaln(r)
        u_a2 = betaln(a, b + ux) - base_ab
        u_a3 = betaln(a + 1, b + ux - 1) - base_ab
        u_dr = digamma(r + ux) - digamma(r)
        u_da2 = psi_ab - psi_abx
        u_da3 = digamma(a + 1) - digamma(a) + psi_ab - psi_abx
        u_db2 = digamma(b + ux) - psi_abx - digamma(b) + psi_ab
        u_db3 = digamma(b + ux - 1) - psi_abx - digamma(b) + psi_ab

        x, t_x, T, w = data.x, data.t_x, data.T, data.w
        rx = r + x
        log_at = np.log(alpha + T)
        log_atx = np.log(alpha + t_x)
        a2 = u_a2[idx] - rx * log_at
        a3 = u_a3[idx] - rx * log_atx
        lse = np.logaddexp(a2, a3)
        s = np.exp(a3 - lse)  # share of the likelihood from "dropped out after t_x"
        ll_sum += np.dot(w, u_a1[idx] + r * log_alpha + lse)
        g_r += np.dot(w, u_dr[idx] + log_alpha - log_at + s * (log_at - log_atx))
        inv_t = 1.0 / (alpha + T)
        g_alpha += np.dot(
            w, r / alpha - rx * (inv_t + s * (1.0 / (alpha + t_x) - inv_t))
        )
        g_a += np.dot(w, u_da2[idx] + s * (u_da3[idx] - u_da2[idx]))
        g_b += np.dot(w, u_db2[idx] + s * (u_db3[idx] - u_db2[idx]))

    grad = np.array([r * g_r, alpha * g_alpha, a * g_a, b * g_b])
    return float(-ll_sum / data.total), -grad / data.total


def _starting_values(x: FloatArray, T: FloatArray, w: FloatArray) -> FloatArray:
    """Log-parameters to start from: unit shapes at the observed purchase rate."""
    rate = max(float(np.dot(w, x) / max(np.dot(w, T), 1e-12)), 1e-6)
    return np.log(np.array([1.0, 1.0 / rate, 1.0, 1.0]))


def fit_bgnbd(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *, weights: ArrayLike | None = None
) -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit.

    x: repeat purchases per customer (whole numbers >= 0); t_x: time of the last repeat
    purchase after the first purchase (0 when x = 0); T: time from the first purchase to
    the end of the observation period. t_x and T in one time unit (e.g. weeks), which
    becomes the unit of alpha. weights: optional count of customers per row (for data
    already grouped by (x, t_x, T)). Raises ValueError on invalid data or a failed fit.
    """
    xs, txs, Ts = customer_arrays(x, t_x, T)
    if xs.size == 0:
        raise ValueError("cannot fit BG/NBD on an empty customer base")
    w = np.ones_like(xs) if weights is None else as_float(weights, "weights")
    if w.shape != xs.shape or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be non-negative, one per customer, not all zero")
    if not np.any(xs > 0):
        raise ValueError("cannot fit BG/NBD: no customer made a repeat purchase")
    if np.all(Ts == 0):
        raise ValueError(
            "cannot fit BG/NBD: no customer has been observed for any time"
        )
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 4
    result = minimize(
        _objective,
        _starting_values(xs, Ts, w),
        args=(_Data(xs, txs, Ts, w),),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ValueError(f"BG/NBD fit failed: {result.message}")
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    total = float(np.dot(w, _log_likelihood(r, alpha, a, b, xs, txs, Ts)))
    return BGNBDParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=total)


def _log_odds_dropped(
    params: BGNBDParams, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """ln[a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)] where x > 0; -inf where x = 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    xm1 = np.where(repeat, x - 1, 0.0)
    value = (
        np.log(a)
        - np.log(b + xm1)
        + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    )
    return np.where(repeat, value, -np.inf)


def probability_alive(
    params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(still active at T | x, t_x, T), in [0, 1] (FHL 2005, eq. 11).

    Under BG/NBD a customer can only drop out right after a purchase, so customers with
    no repeat purchase (x = 0) have P(alive) = 1 by construction.
    """
    xs, txs, Ts = customer_arrays(x, t_x, T)
    # 1 / (1 + odds), computed as exp(-log1p(odds)) so huge odds give 0, not inf/inf.
    return np.asarray(
        np.exp(-np.logaddexp(0.0, _log_odds_dropped(params, xs, txs, Ts)))
    )


def _head(
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: FloatArray,
    T: FloatArray,
    t: FloatArray,
    *,
    euler: NDArray[np.bool_],
    nudge: float = 0.0,
) -> FloatArray:
    """H = ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; c; z), in the chosen form."""
    c = (a + b + x - 1) * (1.0 + nudge)
    log_one_minus_z = np.log(alpha + T) - np.log(alpha + T + t)
    z = t / (alpha + T + t)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        euler_form = np.exp((a - 1) * log_one_minus_z) * hyp2f1(
            a + b - 1 - r, a - 1, c, z
        )
        direct = np.exp((r + x) * log_one_minus_z) * hyp2f1(r + x, b + x, c, z)
    return np.asarray(np.where(euler, euler_form, direct), dtype=np.float64)


def _active_expectation(
    params: BGNBDParams, t: FloatArray, x: FloatArray, T: FloatArray
) -> FloatArray:
    """Expected purchases in (T, T+t] for a customer known to be active at T.

    FHL eq. 10 numerator: (a+b+x-1)/(a-1) * [1 - H] with
    H = ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z), z = t/(alpha+T+t).
    The 2F1 grows like (1-z)^(a-1-r-x) and overflows for frequent buyers while its
    prefactor underflows. Euler's transformation gives the same H as
    (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z), which grows like (1-z)^(x+r+1-a).
    Each row uses the form whose 2F1 stays bounded: Euler's when x + r + 1 >= a, the
    direct one otherwise. scipy's 2F1 returns nan exactly at integer c-a-b for some
    large c; such rows are evaluated with c moved by 1e-12 (relative), then, if still
    not finite, with the other form, then by quadrature.
    """
    r, alpha, a, b = _expectation_parameters(params)
    euler = x + r + 1 >= a
    head = _head(r, alpha, a, b, x, T, t, euler=euler)
    for form, nudge in ((euler, 1e-12), (~euler, 0.0)):
        broken = ~np.isfinite(head)
        if not broken.any():
            break
        head[broken] = _head(
            r,
            alpha,
            a,
            b,
            x[broken],
            T[broken],
            t[broken],
            euler=form[broken],
            nudge=nudge,
        )
    c = a + b + x - 1
    value = c / (a - 1) * (1.0 - head)
    for i in np.flatnonzero(~np.isfinite(value)):
        value[i] = _active_expectation_by_quadrature(params, t[i], x[i], T[i])
    if not np.all(np.isfinite(value)):
        raise ValueError(
            "expected purchases could not be computed for these parameters"
        )
    return np.asarray(value, dtype=np.float64)


def _active_expectation_by_quadrature(
    params: BGNBDParams, t: float, x: float, T: float
) -> float:
    """The same expectation as a 1-D integral, for the rare rows where 2F1 fails.

    Given activity at T, lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x); an active
    customer with (lambda, p) expects (1 - exp(-lambda p t)) / p purchases in t, so
    E = integral over p of (1 - (1 + p t/(alpha+T))^-(r+x)) / p * Beta(p; a, b+x).
    (Seen with b in the thousands and t far beyond alpha + T.)
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    k = t / (alpha + T)
    shape, tail = r + x, b + x
    log_beta = betaln(a, tail)

    def integrand(p: float) -> float:
        if p <= 0.0:
            return 0.0
        gained = -np.expm1(-shape * np.log1p(p * k)) / p
        density = np.exp(xlogy(a - 1, p) + xlog1py(tail - 1, -p) - log_beta)
        return float(gained * density)

    mode = a / (a + tail)
    breaks = [mode / 10, mode, min(10 * mode, 0.5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        value, _ = quad(integrand, 0.0, 1.0, points=breaks, limit=500)
    return float(value)


def expected_purchases(
    params: BGNBDParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected number of purchases in the next t time units, given (x, t_x, T).

    FHL 2005, eq. 10. t, t_x and T in the time unit of the fit (that of alpha); t may be
    a scalar horizon or one per customer. Result: purchases (a non-negative real).
    """
    xs, txs, Ts = customer_arrays(x, t_x, T)
    ts = as_float(t, "t")
    if np.any(ts < 0):
        raise ValueError("the horizon t must be >= 0")
    ts, xs, txs, Ts = np.broadcast_arrays(ts, xs, txs, Ts)
    # Many customers share (x, T, t) (T in whole days or weeks): evaluate 2F1 once each.
    keys = np.stack([xs, Ts, ts], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    active = _active_expectation(params, unique[:, 2], unique[:, 0], unique[:, 1])
    log_odds = _log_odds_dropped(params, xs, txs, Ts)
    return np.asarray(active[inverse.ravel()] * np.exp(-np.logaddexp(0.0, log_odds)))


def expected_purchases_new_customer(params: BGNBDParams, t: ArrayLike) -> FloatArray:
    """E[X(t)]: expected repeat purchases in t time units of a new customer (eq. 9).

    Equal to eq. 10 at x = 0, T = 0 (P(alive) = 1 there).
    """
    ts = as_float(t, "t")
    if np.any(ts < 0):
        raise ValueError("the horizon t must be >= 0")
    zeros = np.zeros_like(ts)
    return _active_expectation(params, ts, zeros, zeros)
