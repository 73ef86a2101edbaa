"""Stages 2 and 3 of a refresh: model fits over arrays, then every score, vectorised.

The pure models live in crm.analytics; this module feeds them the aggregates of
crm.insights.aggregates and keeps what an incremental update needs (the fitted
parameters and the cut points of every rank-based score) in a `Fit`.

Time unit of BG/NBD: weeks, measured in whole days (T = days since the first
purchase / 7). Money: the reporting currency of the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from crm.analytics import competence
from crm.analytics.bgnbd import (
    BGNBDParams,
    expected_purchases,
    fit_bgnbd,
    probability_alive,
)
from crm.analytics.churn import churn_band
from crm.analytics.clv import predicted_clv
from crm.analytics.cohorts import cohort_medians
from crm.analytics.gamma_gamma import GammaGammaParams, fit_gamma_gamma
from crm.analytics.gamma_gamma import expected_spend as gg_expected_spend
from crm.analytics.rfm import rfm_cells, rfm_scores
from crm.analytics.satisfaction import csat_from_counts, nps_from_counts
from crm.analytics.scores import quintile_scores, rank_scores, round_half_up
from crm.analytics.tiers import TierLadder, tier_for
from crm.insights.kinds import TierBasis
from crm.insights.models import InsightSettings

DAY = 86400.0
WEEKS_PER_MONTH = 52.0 / 12.0
PERCENTILE_POINTS = 101


@dataclass
class Fit:
    """Fitted parameters and cut points: what scores one customer without a refit."""

    bgnbd: BGNBDParams | None = None
    gamma_gamma: GammaGammaParams | None = None
    # Score -> lowest (oriented) value that reaches it, per rank-based score.
    cuts: dict[str, Any] = field(default_factory=dict)

    def parameters(self) -> tuple[dict[str, float] | None, dict[str, float] | None]:
        bg = self.bgnbd
        gg = self.gamma_gamma
        return (
            None
            if bg is None
            else {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b},
            None if gg is None else {"p": gg.p, "q": gg.q, "gamma": gg.gamma},
        )

    @classmethod
    def restore(
        cls,
        bgnbd: dict[str, float] | None,
        bg_ll: float | None,
        gamma_gamma: dict[str, float] | None,
        gg_ll: float | None,
        cuts: dict[str, Any],
    ) -> Fit:
        return cls(
            bgnbd=None
            if bgnbd is None
            else BGNBDParams(log_likelihood=bg_ll or 0.0, **bgnbd),
            gamma_gamma=(
                None
                if gamma_gamma is None
                else GammaGammaParams(log_likelihood=gg_ll or 0.0, **gamma_gamma)
            ),
            cuts=dict(cuts),
        )


def _cut_points(
    oriented: np.ndarray, scores: np.ndarray, bands: int
) -> list[float | None]:
    """For each score 1..bands, the lowest oriented value that got it (None if none)."""
    return [
        float(oriented[scores == k].min()) if np.any(scores == k) else None
        for k in range(1, bands + 1)
    ]


def _by_cuts(oriented: np.ndarray, cuts: list[float | None]) -> np.ndarray:
    """Scores from stored cut points: the highest score whose cut is reached."""
    scores = np.ones(oriented.size, dtype=np.int64)
    for k, cut in enumerate(cuts, start=1):
        if cut is not None and k > 1:
            scores = np.where(oriented >= cut, k, scores)
    return scores


class _Ranker:
    """Rank-based scores: computed over the base (and cut points kept) on a full
    refresh, read from the kept cut points on an incremental update."""

    def __init__(self, cuts: dict[str, Any], fresh: bool) -> None:
        self.cuts = cuts
        self.fresh = fresh

    def quintiles(
        self, key: str, values: np.ndarray, *, higher_is_better: bool = True
    ) -> np.ndarray:
        oriented = values if higher_is_better else -values
        if self.fresh:
            scores = quintile_scores(values, higher_is_better=higher_is_better)
            self.cuts[key] = _cut_points(oriented, scores, 5)
            return scores
        return _by_cuts(oriented, self.cuts.get(key) or [])


@dataclass
class Inputs:
    """BG/NBD and Gamma-Gamma inputs per customer (weeks; money per purchase)."""

    buyer: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    zbar: np.ndarray
    tenure_days: np.ndarray
    recency_days: np.ndarray
    profiled: np.ndarray  # buyer and consent to profiling not withdrawn


def inputs_of(agg: dict[str, np.ndarray], as_of_epoch: float) -> Inputs:
    purchases = agg["purchases"]
    buyer = purchases > 0
    first_day = np.where(
        buyer, np.floor((as_of_epoch - agg["first_purchase"]) / DAY), 0
    )
    last_day = np.where(buyer, np.floor((as_of_epoch - agg["last_purchase"]) / DAY), 0)
    first_day = np.maximum(np.nan_to_num(first_day), 0.0)
    last_day = np.clip(np.nan_to_num(last_day), 0.0, first_day)
    x = np.where(buyer, purchases - 1, 0).astype(np.float64)
    T = first_day / 7.0
    t_x = np.where(x > 0, (first_day - last_day) / 7.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        zbar = np.where(buyer, agg["gross_spend"] / np.maximum(purchases, 1), 0.0)
    zbar = np.where(buyer, np.maximum(zbar, 0.01), 0.0)
    return Inputs(
        buyer=buyer,
        x=x,
        t_x=t_x,
        T=T,
        zbar=zbar,
        tenure_days=first_day,
        recency_days=np.where(buyer, last_day, np.nan),
        profiled=buyer & ~agg["withdrawn"],
    )


def fit_models(inputs: Inputs) -> Fit:
    """Stage 2: maximum-likelihood fits over the profiled buyers (None when the base
    cannot support one, e.g. nobody bought twice yet)."""
    mask = inputs.profiled
    fit = Fit()
    try:
        fit.bgnbd = fit_bgnbd(inputs.x[mask], inputs.t_x[mask], inputs.T[mask])
    except ValueError:
        fit.bgnbd = None
    try:
        fit.gamma_gamma = fit_gamma_gamma(inputs.x[mask], inputs.zbar[mask])
    except ValueError:
        fit.gamma_gamma = None
    return fit


def _money(values: np.ndarray) -> np.ndarray:
    return np.round(values.astype(np.float64), 2)


def _nan_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(mask, values.astype(np.float64), np.nan)


def _ints(mask: np.ndarray, values: np.ndarray) -> list[int | None]:
    return [
        int(v) if keep else None
        for v, keep in zip(values.tolist(), mask.tolist(), strict=True)
    ]


def _objects(mask: np.ndarray, values: np.ndarray) -> list[Any]:
    return [
        v if keep else None
        for v, keep in zip(values.tolist(), mask.tolist(), strict=True)
    ]


def score(
    agg: dict[str, np.ndarray],
    inputs: Inputs,
    fit: Fit,
    settings: InsightSettings,
    *,
    fresh: bool,
) -> dict[str, Any]:
    """Stage 3: every measure of every customer in `agg`, as columns.

    `fresh`: a full refresh, whose rank-based scores are computed over the base
    and whose cut points are written into `fit.cuts`; otherwise the cut points of
    `fit` are used (an incremental update of a few customers).
    """
    n = agg["customer_id"].size
    ranker = _Ranker(fit.cuts, fresh)
    withdrawn = agg["withdrawn"]
    out: dict[str, Any] = {
        "customer_id": agg["customer_id"],
        "currency": [settings.reporting_currency] * n,
        "profiling_withdrawn": withdrawn,
        "purchases": agg["purchases"],
        "first_purchase_at": agg["first_purchase"],
        "last_purchase_at": agg["last_purchase"],
        "last_interaction_at": agg["last_interaction"],
        "frequency": agg["frequency"],
        "monetary": _money(agg["monetary"]),
        "revenue_lifetime": _money(agg["revenue_lifetime"]),
        "revenue_12m": _money(agg["revenue_12m"]),
        "cost_to_serve_lifetime": _money(agg["cost_lifetime"]),
        "cost_to_serve_12m": _money(agg["cost_12m"]),
        "margin_lifetime": _money(agg["revenue_lifetime"] - agg["cost_lifetime"]),
        "margin_12m": _money(agg["revenue_12m"] - agg["cost_12m"]),
        "nps_responses": agg["nps_responses"],
        "promoters": agg["promoters"],
        "detractors": agg["detractors"],
        "csat_responses": agg["csat_responses"],
        "satisfied": agg["satisfied"],
        "nps": nps_from_counts(
            agg["promoters"], agg["detractors"], agg["nps_responses"]
        ),
        "csat": csat_from_counts(agg["satisfied"], agg["csat_responses"]),
        "customer_initiated": agg["feedback"]
        + agg["inbound_contacts"]
        + agg["self_service"]
        + agg["corrections"],
    }
    out["recency_days"] = _ints(inputs.buyer, np.nan_to_num(inputs.recency_days))
    # RFM (profiling): quintiles over the customers who bought in the window.
    in_window = (agg["frequency"] > 0) & ~withdrawn
    r = np.ones(n, dtype=np.int64)
    f = np.ones(n, dtype=np.int64)
    m = np.ones(n, dtype=np.int64)
    if fresh:
        if in_window.any():
            rr, ff, mm = rfm_scores(
                inputs.recency_days[in_window],
                agg["frequency"][in_window],
                agg["monetary"][in_window],
            )
            r[in_window], f[in_window], m[in_window] = rr, ff, mm
            for key, values, scores in (
                ("recency", -inputs.recency_days[in_window], rr),
                ("frequency", agg["frequency"][in_window].astype(float), ff),
                ("monetary", agg["monetary"][in_window], mm),
            ):
                fit.cuts[key] = _cut_points(values, scores, 5)
    elif in_window.any():
        r[in_window] = _by_cuts(
            -inputs.recency_days[in_window], fit.cuts.get("recency") or []
        )
        f[in_window] = _by_cuts(
            agg["frequency"][in_window].astype(float), fit.cuts.get("frequency") or []
        )
        m[in_window] = _by_cuts(
            agg["monetary"][in_window], fit.cuts.get("monetary") or []
        )
    keep = ~withdrawn
    out["rfm_r"], out["rfm_f"], out["rfm_m"] = (_ints(keep, v) for v in (r, f, m))
    out["rfm_cell"] = _objects(keep, rfm_cells(r, f, m))
    # BG/NBD, Gamma-Gamma and CLV over the profiled buyers.
    _predictions(out, inputs, fit, settings, fresh)
    # Competence-based classification.
    _classification(out, agg, inputs, ranker, settings)
    _tiers(out, agg, settings)
    if fresh:
        fit.cuts["cohorts"] = cohort_figures(agg, out, settings.cohort_min_size)
    return out


def cohort_key(first_purchase_year: int | None, locale: str | None) -> str | None:
    """Customers like them: same year of first purchase and same locale."""
    if first_purchase_year is None or not locale:
        return None
    return f"{first_purchase_year}|{locale}"


def cohort_figures(
    agg: dict[str, np.ndarray], out: dict[str, Any], k: int
) -> dict[str, dict[str, float]]:
    """Median 12-month spend and purchases of each cohort of at least k buyers."""
    years = np.full(agg["purchases"].size, None, dtype=object)
    buyer = agg["purchases"] > 0
    stamps = agg["first_purchase"][buyer].astype("datetime64[s]")
    years[buyer] = stamps.astype("datetime64[Y]").astype(int) + 1970
    keys = np.array(
        [
            cohort_key(year, locale)
            for year, locale in zip(years.tolist(), agg["locale"].tolist(), strict=True)
        ],
        dtype=object,
    )
    keys[agg["withdrawn"]] = None  # no profiling of those who said no, even in sums
    spend = np.asarray(out["revenue_12m"], dtype=np.float64)
    purchases = agg["purchases_12m"].astype(np.float64)
    spend_medians = cohort_medians(keys, spend, k=k)
    purchase_medians = cohort_medians(keys, purchases, k=k)
    return {
        str(key): {
            "median_spend_12m": round(value, 2),
            "median_purchases_12m": purchase_medians[key],
            "size": int(np.count_nonzero(keys == key)),
        }
        for key, value in spend_medians.items()
    }


def _predictions(
    out: dict[str, Any],
    inputs: Inputs,
    fit: Fit,
    settings: InsightSettings,
    fresh: bool,
) -> None:
    n = inputs.x.size
    p = inputs.profiled
    out["repeat_purchases"] = _ints(p, inputs.x)
    out["weeks_first_to_last"] = _nan_where(p, inputs.t_x)
    out["weeks_since_first"] = _nan_where(p, inputs.T)
    out["average_spend"] = _money(_nan_where(p, inputs.zbar))
    nan = np.full(n, np.nan)
    alive, expected, spend, clv = nan, nan, nan, nan.copy()
    horizon = settings.clv_horizon_months * WEEKS_PER_MONTH
    if fit.bgnbd is not None and p.any():
        # A fit at the edge of the parameter space (tiny or odd bases) can make a
        # special function overflow for some customers: they get no prediction.
        with np.errstate(all="ignore"):
            x, t_x, T = inputs.x[p], inputs.t_x[p], inputs.T[p]
            alive = nan.copy()
            alive[p] = probability_alive(fit.bgnbd, x, t_x, T)
            expected = nan.copy()
            expected[p] = expected_purchases(fit.bgnbd, horizon, x, t_x, T)
            if fit.gamma_gamma is not None:
                spend = nan.copy()
                spend[p] = gg_expected_spend(fit.gamma_gamma, x, inputs.zbar[p])
                weekly = (1.0 + settings.annual_discount_rate) ** (1.0 / 52.0) - 1.0
                clv[p] = predicted_clv(
                    fit.bgnbd,
                    fit.gamma_gamma,
                    x,
                    t_x,
                    T,
                    inputs.zbar[p],
                    horizon_periods=horizon,
                    discount_rate_per_period=weekly,
                    step=WEEKS_PER_MONTH,
                )
    alive = np.where(np.isfinite(alive), np.clip(alive, 0.0, 1.0), np.nan)
    expected = np.where(np.isfinite(expected), expected, np.nan)
    spend = np.where(np.isfinite(spend), spend, np.nan)
    clv = np.where(np.isfinite(clv), clv, np.nan)
    out["p_alive"] = alive
    out["expected_purchases"] = expected
    has_alive = ~np.isnan(alive)
    bands = np.full(n, None, dtype=object)
    if has_alive.any():
        bands[has_alive] = churn_band(
            alive[has_alive],
            high=settings.churn_high_below,
            medium=settings.churn_medium_below,
        )
    _one_time_buyer_bands(bands, has_alive, inputs, fit, settings)
    out["churn_band"] = bands
    out["expected_spend"] = _money(spend)
    out["predicted_clv"] = _money(clv)
    out["clv_percentile"] = _percentiles(clv, fit, fresh)


def _one_time_buyer_bands(
    bands: np.ndarray,
    has_alive: np.ndarray,
    inputs: Inputs,
    fit: Fit,
    settings: InsightSettings,
) -> None:
    """Churn bands of one-time buyers (x = 0), in place.

    BG/NBD gives them P(alive) = 1 however long they have been silent (a drop-out
    can only follow a repeat purchase), which would keep them at LOW risk forever.
    Their band instead comes from the probability that an active buyer of the base
    makes no repeat purchase in the T weeks since the first one, from the fitted
    Gamma of purchase rates: (alpha / (alpha + T))^r, with the same thresholds.
    P(alive) itself stays the model's.
    """
    if fit.bgnbd is None:
        return
    once = has_alive & (inputs.x == 0)
    if not once.any():
        return
    r, alpha = fit.bgnbd.r, fit.bgnbd.alpha
    with np.errstate(all="ignore"):
        silent = np.exp(r * (np.log(alpha) - np.log(alpha + inputs.T[once])))
    silent = np.where(np.isfinite(silent), np.clip(silent, 0.0, 1.0), 1.0)
    bands[once] = churn_band(
        silent, high=settings.churn_high_below, medium=settings.churn_medium_below
    )


def _percentiles(clv: np.ndarray, fit: Fit, fresh: bool) -> np.ndarray:
    """Share of the scored base with a strictly lower predicted value, in percent.

    A full refresh keeps 101 quantiles of the base; an update interpolates in them.
    """
    known = ~np.isnan(clv)
    result = np.full(clv.size, np.nan)
    if not known.any():
        return result
    if fresh:
        values = np.sort(clv[known])
        below = np.searchsorted(values, clv[known], side="left")
        result[known] = np.round(100.0 * below / values.size, 2)
        fit.cuts["clv_quantiles"] = np.quantile(
            values, np.linspace(0, 1, PERCENTILE_POINTS)
        ).tolist()
        return result
    quantiles = fit.cuts.get("clv_quantiles")
    if quantiles:
        grid = np.linspace(0, 100, len(quantiles))
        result[known] = np.round(np.interp(clv[known], quantiles, grid), 2)
    return result


def _classification(
    out: dict[str, Any],
    agg: dict[str, np.ndarray],
    inputs: Inputs,
    ranker: _Ranker,
    settings: InsightSettings,
) -> None:
    n = agg["customer_id"].size
    keep = ~agg["withdrawn"]
    margin = np.asarray(out["margin_12m"], dtype=np.float64)
    profitability = np.ones(n, dtype=np.int64)
    if keep.any():
        profitability[keep] = ranker.quintiles("profitability", margin[keep])
    # Loyalty: tenure and repeat quintiles with P(alive) (buyers with a prediction).
    alive = np.asarray(out["p_alive"], dtype=np.float64)
    scored = keep & ~np.isnan(alive)
    loyalty = np.ones(n, dtype=np.int64)
    if scored.any():
        if ranker.fresh:
            loyalty[scored] = competence.loyalty_scores(
                inputs.tenure_days[scored], inputs.x[scored], alive[scored]
            )
            ranker.quintiles("tenure", inputs.tenure_days[scored])
            ranker.quintiles("repeat", inputs.x[scored])
        else:
            # The same weighted mean, with the tenure and repeat quintiles read from
            # the cut points of the last refresh.
            tenure = ranker.quintiles("tenure", inputs.tenure_days[scored])
            repeat = ranker.quintiles("repeat", inputs.x[scored])
            active = np.minimum(1 + np.floor(5 * alive[scored]).astype(np.int64), 5)
            w = competence.LOYALTY_WEIGHTS
            mean = w["tenure"] * tenure + w["repeat"] * repeat + w["active"] * active
            loyalty[scored] = np.clip(round_half_up(mean), 1, 5)
    # Strategic value: staff's override, else the rule over predicted value.
    clv = np.asarray(out["predicted_clv"], dtype=np.float64)
    strategic = np.ones(n, dtype=np.int64)
    valued = keep & ~np.isnan(clv)
    if valued.any():
        if ranker.fresh:
            strategic[valued] = competence.strategic_default_scores(clv[valued])
            ranker.quintiles("strategic", clv[valued])
        else:
            strategic[valued] = ranker.quintiles("strategic", clv[valued])
    override = agg["strategic_override"]
    overridden = override > 0
    strategic = np.where(overridden, override, strategic)
    # Willingness to take part: 1 without participation, else quartiles 2..5.
    willingness = _willingness(agg, ranker)
    groups = competence.value_groups(profitability, loyalty, strategic)
    importance = competence.importance_scores(profitability, strategic)
    modes = competence.value_creation_modes(importance, willingness)
    out["profitability_score"] = _ints(keep, profitability)
    out["loyalty_score"] = _ints(keep, loyalty)
    out["strategic_score"] = _ints(keep | overridden, strategic)
    out["strategic_overridden"] = overridden
    out["value_group"] = _objects(keep, groups)
    out["low_value"] = _objects(keep, groups == competence.ValueGroup.LOW_VALUE.value)
    out["willingness"] = _nan_where(keep, willingness)
    out["value_creation_mode"] = _objects(keep, modes)


PARTICIPATION = ("feedback", "inbound_contacts", "corrections", "self_service")


def _willingness(agg: dict[str, np.ndarray], ranker: _Ranker) -> np.ndarray:
    counts = [agg[name].astype(np.float64) for name in PARTICIPATION]
    weights = competence.PARTICIPATION_WEIGHTS
    weighted = np.zeros(agg["customer_id"].size)
    for name, count in zip(PARTICIPATION, counts, strict=True):
        weighted = weighted + weights[name] * count
    took_part = weighted > 0
    if ranker.fresh:
        scores = competence.willingness_scores(*counts)
        if took_part.any():
            ranker.cuts["willingness"] = _cut_points(
                weighted[took_part], rank_scores(weighted[took_part], 4), 4
            )
        return scores
    scores = np.ones(weighted.size, dtype=np.int64)
    cuts = ranker.cuts.get("willingness") or []
    scores[took_part] = 1 + _by_cuts(weighted[took_part], cuts)
    return scores


def tier_basis_values(
    agg: dict[str, np.ndarray], out: dict[str, Any], basis: str
) -> np.ndarray:
    if basis == TierBasis.REVENUE_LIFETIME.value:
        return np.asarray(out["revenue_lifetime"], dtype=np.float64)
    if basis == TierBasis.PURCHASES_12M.value:
        return agg["purchases_12m"].astype(np.float64)
    return np.asarray(out["revenue_12m"], dtype=np.float64)


def _tiers(
    out: dict[str, Any], agg: dict[str, np.ndarray], settings: InsightSettings
) -> None:
    n = agg["customer_id"].size
    ladder_rows = settings.tier_ladder or []
    values = tier_basis_values(agg, out, settings.tier_basis)
    out["tier_measure"] = _money(values) if ladder_rows else np.full(n, np.nan)
    if not ladder_rows:
        out["tier"] = [None] * n
        out["next_tier"] = [None] * n
        out["tier_progress"] = np.full(n, np.nan)
        return
    ladder = TierLadder(
        [(t["name"], float(Decimal(str(t["threshold"])))) for t in ladder_rows]
    )
    index, _next_threshold, progress = tier_for(values, ladder)
    names = np.array([*ladder.names, None], dtype=object)  # names[-1]: no tier
    out["tier"] = names[index].tolist()
    top = len(ladder.names) - 1
    out["next_tier"] = [
        None if i >= top else ladder.names[i + 1] for i in index.tolist()
    ]
    out["tier_progress"] = np.round(progress, 4)
