"""BG/NBD: reproduces the published CDNOW fit and behaves like the model says."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from crm.analytics.bgnbd import (
    BGNBDParams,
    _Data,
    _objective,
    expected_purchases,
    expected_purchases_new_customer,
    fit_bgnbd,
    log_likelihood,
    probability_alive,
)

CDNOW = Path(__file__).parent / "data" / "cdnow_customers_summary_with_transactions.csv"
# Fader, Hardie and Lee (2005), Marketing Science 24(2), time unit: weeks.
PUBLISHED = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4)


def load_cdnow() -> np.ndarray:
    return np.genfromtxt(CDNOW, delimiter=",", names=True)


@pytest.fixture(scope="module")
def cdnow() -> np.ndarray:
    return load_cdnow()


@pytest.fixture(scope="module")
def fitted(cdnow: np.ndarray) -> BGNBDParams:
    return fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


def simulate(
    params: BGNBDParams, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers drawn from the BG/NBD story, observed for 20-60 weeks each."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(params.r, 1 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    T = rng.uniform(20, 60, n)
    # The customer leaves right after their k-th repeat purchase.
    lifetime_purchases = rng.geometric(drop)
    arrivals = rng.poisson(rate * T)
    x = np.minimum(lifetime_purchases, arrivals)
    t_x = np.zeros(n)
    repeat = x > 0
    # Given m arrivals in (0, T], the x-th arrival time is T * Beta(x, m - x + 1).
    t_x[repeat] = T[repeat] * rng.beta(x[repeat], arrivals[repeat] - x[repeat] + 1)
    return x.astype(float), t_x, T


def test_fit_reproduces_the_published_cdnow_parameters(fitted: BGNBDParams) -> None:
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(
            getattr(PUBLISHED, name), rel=0.01
        )
    assert fitted.log_likelihood == pytest.approx(PUBLISHED.log_likelihood, abs=0.1)


def test_per_customer_log_likelihood_sums_to_the_fit_total(
    cdnow: np.ndarray, fitted: BGNBDParams
) -> None:
    per_customer = log_likelihood(fitted, cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert per_customer.shape == (2357,)
    assert np.all(per_customer < 0)
    assert per_customer.sum() == pytest.approx(fitted.log_likelihood, rel=1e-12)


def test_published_parameters_are_a_worse_fit_than_ours(
    cdnow: np.ndarray, fitted: BGNBDParams
) -> None:
    published = log_likelihood(PUBLISHED, cdnow["x"], cdnow["t_x"], cdnow["T"]).sum()
    assert published <= fitted.log_likelihood
    assert published == pytest.approx(-9582.4, abs=0.1)


def test_analytic_gradient_matches_finite_differences(cdnow: np.ndarray) -> None:
    data = _Data(cdnow["x"], cdnow["t_x"], cdnow["T"], np.ones(len(cdnow)))
    theta = np.log([0.5, 3.0, 1.2, 4.0])
    _, gradient = _objective(theta, data)
    step = 1e-6
    numeric = [
        (_objective(theta + step * e, data)[0] - _objective(theta - step * e, data)[0])
        / (2 * step)
        for e in np.eye(4)
    ]
    assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-9)


def test_weights_count_customers_like_repeated_rows(cdnow: np.ndarray) -> None:
    # Given the first 300 customers, once with weight 2 and once listed twice
    x, t_x, T = cdnow["x"][:300], cdnow["t_x"][:300], cdnow["T"][:300]
    weighted = fit_bgnbd(x, t_x, T, weights=np.full(300, 2.0))
    repeated = fit_bgnbd(np.tile(x, 2), np.tile(t_x, 2), np.tile(T, 2))
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert getattr(weighted, name) == pytest.approx(
            getattr(repeated, name), rel=1e-5
        )


def test_conditional_expectation_matches_hardies_spreadsheet(
    fitted: BGNBDParams,
) -> None:
    # Customer 1 of CDNOW (x=2, t_x=30.43, T=38.86) over the next 39 weeks: 1.226 in
    # the BG/NBD spreadsheet accompanying FHL 2005 (lifetimes checks the same number).
    assert expected_purchases(fitted, 39, 2, 30.43, 38.86)[0] == pytest.approx(
        1.226, abs=5e-4
    )
    assert expected_purchases(PUBLISHED, 39, 2, 30.43, 38.86)[0] == pytest.approx(
        1.226, abs=5e-4
    )


def test_unconditional_expectation_matches_hardies_spreadsheet(
    fitted: BGNBDParams,
) -> None:
    # E[X(t)] for a new customer, from the same spreadsheet (weeks), at the MLE; the
    # rounded published parameters move the 78-week value by 0.003.
    times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    published = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    values = expected_purchases_new_customer(fitted, times)
    assert values == pytest.approx(published, abs=5e-4)


def test_a_customer_without_repeat_purchases_is_alive_for_sure(
    fitted: BGNBDParams,
) -> None:
    # Under BG/NBD a customer can only leave right after a purchase.
    assert probability_alive(fitted, [0, 0], [0, 0], [1.0, 500.0]).tolist() == [
        1.0,
        1.0,
    ]


def test_a_recent_purchase_means_more_likely_alive_and_more_purchases(
    fitted: BGNBDParams,
) -> None:
    t_x = np.linspace(1, 38, 20)
    alive = probability_alive(fitted, 3, t_x, 38.86)
    purchases = expected_purchases(fitted, 39, 3, t_x, 38.86)
    assert np.all(np.diff(alive) > 0)
    assert np.all(np.diff(purchases) > 0)
    assert np.all((alive > 0) & (alive < 1))


def test_a_frequent_recent_buyer_expects_more_purchases(fitted: BGNBDParams) -> None:
    x = np.arange(1, 30)
    purchases = expected_purchases(fitted, 39, x, 38.0, 38.86)
    assert np.all(np.diff(purchases) > 0)


def test_a_frequent_buyer_who_stopped_long_ago_is_probably_gone(
    fitted: BGNBDParams,
) -> None:
    alive = probability_alive(fitted, [1, 5, 20], 5.0, 38.86)
    assert np.all(np.diff(alive) < 0)
    assert alive[-1] < 1e-6


def test_expected_purchases_grow_with_the_horizon_from_zero(
    fitted: BGNBDParams,
) -> None:
    horizons = np.array([0.0, 1, 5, 20, 52, 104, 520])
    purchases = expected_purchases(fitted, horizons, 4, 30.0, 38.86)
    assert purchases[0] == 0
    assert np.all(np.diff(purchases) > 0)


def test_expected_purchases_over_a_short_horizon_equal_rate_times_time(
    fitted: BGNBDParams,
) -> None:
    # For small t: E[Y(t)] ~ P(alive) * E[lambda | x, T] * t, with
    # E[lambda | x, T] = (r + x) / (alpha + T).
    x, t_x, T, t = 4, 30.0, 38.86, 1e-4
    alive = probability_alive(fitted, x, t_x, T)[0]
    rate = (fitted.r + x) / (fitted.alpha + T)
    value = expected_purchases(fitted, t, x, t_x, T)[0]
    assert value == pytest.approx(alive * rate * t, rel=1e-3)


def test_numerics_hold_for_heavy_buyers_and_long_histories(fitted: BGNBDParams) -> None:
    x = np.array([0, 1, 50, 500, 5000, 5000, 200])
    t_x = np.array([0, 9000, 9000, 9999, 9999, 10.0, 9999])
    T = np.array([10000.0] * 7)
    purchases = expected_purchases(fitted, 52, x, t_x, T)
    alive = probability_alive(fitted, x, t_x, T)
    assert np.all(np.isfinite(purchases)) and np.all(purchases >= 0)
    assert np.all((alive >= 0) & (alive <= 1))
    assert alive[5] == 0.0 and purchases[5] == 0.0  # 5000 purchases, silent since
    # A heavy, recent buyer keeps buying at about their own rate x / T per week.
    assert purchases[4] == pytest.approx(alive[4] * 5000 / 10000 * 52, rel=0.05)


def test_a_equal_to_one_has_a_finite_expectation() -> None:
    params = BGNBDParams(r=0.5, alpha=5.0, a=1.0, b=3.0, log_likelihood=0.0)
    nearby = BGNBDParams(r=0.5, alpha=5.0, a=1.001, b=3.0, log_likelihood=0.0)
    value = expected_purchases(params, 39, 2, 30.0, 38.0)[0]
    assert value == pytest.approx(
        expected_purchases(nearby, 39, 2, 30.0, 38.0)[0], rel=1e-2
    )


@pytest.mark.parametrize(
    "params",
    [
        BGNBDParams(r=0.5, alpha=5.0, a=0.3, b=0.5, log_likelihood=0.0),
        BGNBDParams(r=0.5, alpha=5.0, a=1.0, b=2.0, log_likelihood=0.0),
        BGNBDParams(r=0.4, alpha=5.0, a=0.4, b=0.6, log_likelihood=0.0),
        BGNBDParams(r=1.2, alpha=3.0, a=2.5, b=4.0, log_likelihood=0.0),
    ],
    ids=["a+b<1", "a=1", "a+b=1", "a>1"],
)
def test_expectations_agree_with_simulating_the_model(params: BGNBDParams) -> None:
    # Draw customers from the story; compare the formulas with the sample means of
    # purchases in (0, T] (new customers) and in (T, T+t] for those with x = 0.
    rng = np.random.default_rng(11)
    n, T, t = 400_000, 20.0, 30.0
    rate = rng.gamma(params.r, 1 / params.alpha, n)
    lifetime_purchases = rng.geometric(rng.beta(params.a, params.b, n))
    by_T = rng.poisson(rate * T)
    by_T_plus_t = by_T + rng.poisson(rate * t)
    x = np.minimum(lifetime_purchases, by_T)
    later = np.minimum(lifetime_purchases, by_T_plus_t) - x
    for sample, formula in (
        (x, expected_purchases_new_customer(params, T)[0]),
        (later[x == 0], expected_purchases(params, t, 0, 0, T)[0]),
    ):
        standard_error = sample.std() / np.sqrt(sample.size)
        assert abs(sample.mean() - formula) < 5 * standard_error


def test_expectations_depend_only_on_the_ratio_of_time_units(
    fitted: BGNBDParams,
) -> None:
    # Days instead of weeks: alpha scales by 7 and so do all times.
    in_days = BGNBDParams(
        r=fitted.r, alpha=fitted.alpha * 7, a=fitted.a, b=fitted.b, log_likelihood=0.0
    )
    weeks = expected_purchases(fitted, 39, 2, 30.43, 38.86)
    days = expected_purchases(in_days, 39 * 7, 2, 30.43 * 7, 38.86 * 7)
    assert days == pytest.approx(weeks, rel=1e-10)


def test_invalid_customer_data_is_rejected_with_a_clear_message(
    fitted: BGNBDParams,
) -> None:
    cases: list[tuple[tuple[list[float], list[float], list[float]], str]] = [
        (([-1], [0], [1]), "x must be whole numbers"),
        (([1.5], [0.5], [1]), "x must be whole numbers"),
        (([1], [2], [1]), "t_x must lie between 0 and T"),
        (([0], [1], [2]), "t_x must be 0 when x is 0"),
        (([1], [np.nan], [2]), "t_x must hold finite numbers"),
    ]
    for (x, t_x, T), message in cases:
        with pytest.raises(ValueError, match=message):
            probability_alive(fitted, x, t_x, T)
    with pytest.raises(ValueError, match="horizon t must be >= 0"):
        expected_purchases(fitted, -1, 1, 1, 2)


def test_a_fit_without_information_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        fit_bgnbd([], [], [])
    with pytest.raises(ValueError, match="no customer made a repeat purchase"):
        fit_bgnbd([0, 0], [0, 0], [5, 6])
    with pytest.raises(ValueError, match="weights"):
        fit_bgnbd([1, 0], [1, 0], [5, 6], weights=[1, -1])
    with pytest.raises(ValueError, match="positive"):
        BGNBDParams(r=0.0, alpha=1.0, a=1.0, b=1.0, log_likelihood=0.0)


@pytest.mark.parametrize(
    "truth",
    [
        BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0),
        BGNBDParams(r=2.0, alpha=10.0, a=0.5, b=5.0, log_likelihood=0.0),
    ],
    ids=["cdnow-like", "regular-buyers"],
)
def test_a_fit_over_100k_simulated_customers_recovers_the_truth(
    truth: BGNBDParams,
) -> None:
    x, t_x, T = simulate(truth, 100_000, seed=7)
    started = time.perf_counter()
    fitted = fit_bgnbd(x, t_x, T)
    elapsed = time.perf_counter() - started
    print(
        f"BG/NBD fit over 100,000 customers: {elapsed:.2f} s"
    )  # reported, not asserted
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=0.1)
