"""Gamma-Gamma spend and predicted lifetime value on CDNOW."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crm.analytics.bgnbd import BGNBDParams, expected_purchases, fit_bgnbd
from crm.analytics.clv import discount_times, predicted_clv
from crm.analytics.gamma_gamma import (
    GammaGammaParams,
    _objective,
    expected_spend,
    fit_gamma_gamma,
    log_likelihood,
)

CDNOW = Path(__file__).parent / "data" / "cdnow_customers_summary_with_transactions.csv"


@pytest.fixture(scope="module")
def cdnow() -> np.ndarray:
    return np.genfromtxt(CDNOW, delimiter=",", names=True)


@pytest.fixture(scope="module")
def gg(cdnow: np.ndarray) -> GammaGammaParams:
    return fit_gamma_gamma(cdnow["x"], cdnow["zbar"])


@pytest.fixture(scope="module")
def bg(cdnow: np.ndarray) -> BGNBDParams:
    return fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


def test_fit_reproduces_the_published_cdnow_spend_parameters(
    cdnow: np.ndarray, gg: GammaGammaParams
) -> None:
    # Fader, Hardie and Lee (2005), JMR 42(4), on the 946 customers with x > 0.
    assert np.count_nonzero(cdnow["x"] > 0) == 946
    assert gg.p == pytest.approx(6.25, rel=0.01)
    assert gg.q == pytest.approx(3.74, rel=0.01)
    assert gg.gamma == pytest.approx(15.44, rel=0.01)


def test_log_likelihood_covers_buyers_only_and_sums_to_the_fit(
    cdnow: np.ndarray, gg: GammaGammaParams
) -> None:
    buyers = cdnow["x"] > 0
    per_customer = log_likelihood(gg, cdnow["x"][buyers], cdnow["zbar"][buyers])
    assert per_customer.sum() == pytest.approx(gg.log_likelihood, rel=1e-12)
    with pytest.raises(ValueError, match="x > 0 only"):
        log_likelihood(gg, [0], [0])


def test_expected_spend_matches_the_reference_implementation(
    gg: GammaGammaParams,
) -> None:
    # CDNOW customers 1, 2, 6 and 9 and a customer with no repeat purchase, as
    # printed in the lifetimes documentation for the same maximum-likelihood fit.
    values = expected_spend(gg, [2, 1, 7, 2, 0], [22.35, 11.77, 73.74, 25.55, 0])
    assert values == pytest.approx(
        [24.658619, 18.911489, 71.462843, 27.282408, 35.170981], abs=2e-3
    )


def test_expected_spend_shrinks_towards_the_population_mean(
    gg: GammaGammaParams,
) -> None:
    mean = gg.population_mean
    x = np.array([1, 2, 5, 20, 200])
    low = expected_spend(gg, x, 5.0)
    high = expected_spend(gg, x, 200.0)
    # The more purchases, the closer to the customer's own mean.
    assert np.all(np.diff(low) < 0) and np.all(low > 5.0) and np.all(low < mean)
    assert np.all(np.diff(high) > 0) and np.all(high < 200.0) and np.all(high > mean)
    assert expected_spend(gg, 0, 123.0)[0] == pytest.approx(mean)


def test_without_a_finite_mean_a_newcomers_spend_is_unknown() -> None:
    heavy_tail = GammaGammaParams(p=2.0, q=0.8, gamma=10.0, log_likelihood=0.0)
    assert np.isnan(heavy_tail.population_mean)
    values = expected_spend(heavy_tail, [0, 3], [0, 20.0])
    assert np.isnan(values[0]) and np.isfinite(values[1])


def test_spend_input_errors_are_clear(gg: GammaGammaParams) -> None:
    with pytest.raises(ValueError, match="zbar must be > 0"):
        fit_gamma_gamma([1, 2], [10.0, 0.0])
    with pytest.raises(ValueError, match="no customer made a repeat purchase"):
        fit_gamma_gamma([0, 0], [0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        expected_spend(gg, [1], [np.inf])


def test_clv_is_purchases_times_spend_when_nothing_is_discounted(
    cdnow: np.ndarray, bg: BGNBDParams, gg: GammaGammaParams
) -> None:
    x, t_x, T, zbar = cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"]
    value = predicted_clv(
        bg, gg, x, t_x, T, zbar, horizon_periods=39, discount_rate_per_period=0.0
    )
    expected = expected_purchases(bg, 39, x, t_x, T) * expected_spend(gg, x, zbar)
    assert value == pytest.approx(expected, rel=1e-9)


def test_discounting_and_margin_lower_the_value(
    cdnow: np.ndarray, bg: BGNBDParams, gg: GammaGammaParams
) -> None:
    args = (bg, gg, cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"])
    plain = predicted_clv(*args, horizon_periods=52, discount_rate_per_period=0.0)
    discounted = predicted_clv(*args, horizon_periods=52, discount_rate_per_period=0.01)
    with_margin = predicted_clv(
        *args, horizon_periods=52, discount_rate_per_period=0.01, margin=0.3
    )
    assert np.all(discounted < plain) and np.all(discounted > plain / 1.01**52)
    assert with_margin == pytest.approx(0.3 * discounted, rel=1e-12)


def test_clv_for_one_customer_is_the_discounted_sum_of_weekly_increments(
    bg: BGNBDParams, gg: GammaGammaParams
) -> None:
    rate = 0.002
    weeks = np.arange(0, 53)
    cumulative = expected_purchases(bg, weeks, 2, 30.43, 38.86)
    spend = expected_spend(gg, 2, 22.35)[0]
    by_hand = spend * np.sum(np.diff(cumulative) / (1 + rate) ** weeks[1:])
    value = predicted_clv(
        bg,
        gg,
        2,
        30.43,
        38.86,
        22.35,
        horizon_periods=52,
        discount_rate_per_period=rate,
    )
    assert value[0] == pytest.approx(by_hand, rel=1e-12)


def test_longer_horizons_are_worth_more_and_steps_cap_at_the_horizon(
    bg: BGNBDParams, gg: GammaGammaParams
) -> None:
    values = [
        predicted_clv(
            bg,
            gg,
            3,
            20.0,
            38.86,
            30.0,
            horizon_periods=h,
            discount_rate_per_period=0.01,
        )[0]
        for h in (4, 13, 26, 52, 104)
    ]
    assert np.all(np.diff(values) > 0)
    assert discount_times(10, 4).tolist() == [4.0, 8.0, 10.0]
    assert discount_times(12, 4).tolist() == [4.0, 8.0, 12.0]


def test_clv_settings_are_validated(bg: BGNBDParams, gg: GammaGammaParams) -> None:
    for kwargs, message in (
        ({"horizon_periods": 0, "discount_rate_per_period": 0.0}, "horizon_periods"),
        ({"horizon_periods": 5, "discount_rate_per_period": -1.0}, "discount_rate"),
        ({"horizon_periods": 5, "discount_rate_per_period": 0.0, "step": 0}, "step"),
    ):
        with pytest.raises(ValueError, match=message):
            predicted_clv(bg, gg, 1, 1.0, 2.0, 10.0, **kwargs)  # type: ignore[arg-type]


def test_spend_gradient_matches_finite_differences(cdnow: np.ndarray) -> None:
    buyers = cdnow["x"] > 0
    x, z = cdnow["x"][buyers], cdnow["zbar"][buyers]
    ux, index = np.unique(x, return_inverse=True)
    theta = np.log([4.0, 2.5, 20.0])
    _, gradient = _objective(theta, ux, index, x, z)
    step = 1e-6
    numeric = [
        (
            _objective(theta + step * e, ux, index, x, z)[0]
            - _objective(theta - step * e, ux, index, x, z)[0]
        )
        / (2 * step)
        for e in np.eye(3)
    ]
    assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-9)
