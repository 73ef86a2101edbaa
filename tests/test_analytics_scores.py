"""RFM, churn bands, satisfaction, tiers and cohorts: the rules of each score."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crm.analytics.churn import churn_band, crossed
from crm.analytics.cohorts import cohort_medians, cohort_percentiles
from crm.analytics.rfm import (
    RFM_CELL_DESCRIPTIONS,
    RFM_CELL_GRID,
    RfmCell,
    customer_label,
    rfm_cells,
    rfm_scores,
)
from crm.analytics.satisfaction import (
    csat,
    csat_from_counts,
    nps,
    nps_category,
    nps_from_counts,
)
from crm.analytics.scores import quintile_scores, rank_scores
from crm.analytics.tiers import TierLadder, tier_for


def test_quintiles_without_ties_are_balanced() -> None:
    rng = np.random.default_rng(1)
    for n in (5, 100, 1003):
        scores = quintile_scores(rng.permutation(n).astype(float))
        counts = np.bincount(scores, minlength=6)[1:]
        assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_equal_values_get_equal_scores_whatever_the_order() -> None:
    values = np.array([3.0, 1.0, 3.0, 2.0, 3.0, 5.0, 1.0, 4.0, 3.0, 2.0])
    scores = quintile_scores(values)
    for value in np.unique(values):
        assert len(set(scores[values == value])) == 1
    order = np.random.default_rng(3).permutation(values.size)
    assert quintile_scores(values[order]).tolist() == scores[order].tolist()
    # Higher values never score lower; the lowest value always scores 1.
    assert np.all(np.diff(scores[np.argsort(values, kind="stable")]) >= 0)
    assert set(scores[values == 1.0]) == {1}


def test_rank_scores_count_strictly_worse_values() -> None:
    assert rank_scores([10, 20, 30, 40], 4).tolist() == [1, 2, 3, 4]
    assert rank_scores([7, 7, 7]).tolist() == [1, 1, 1]
    assert rank_scores([1, 2], 5, higher_is_better=False).tolist() == [3, 1]
    assert rank_scores([]).tolist() == []


def test_recency_scores_favour_recent_buyers() -> None:
    recency = np.arange(1.0, 101.0)
    r, f, m = rfm_scores(recency, np.full(100, 2), np.full(100, 50.0))
    assert r[0] == 5 and r[-1] == 1
    assert np.all(np.diff(r) <= 0)
    assert set(f) == {1} and set(m) == {1}  # everyone tied


def test_customers_without_purchases_score_one_and_are_not_in_the_base() -> None:
    recency = np.array([np.nan, 5.0, 10.0, 20.0, 30.0, 40.0])
    frequency = np.array([0, 1, 2, 3, 4, 5])
    monetary = np.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0])
    r, f, m = rfm_scores(recency, frequency, monetary)
    assert (r[0], f[0], m[0]) == (1, 1, 1)
    # The five buyers fill the five quintiles.
    assert sorted(r[1:]) == sorted(f[1:]) == sorted(m[1:]) == [1, 2, 3, 4, 5]
    assert rfm_cells(r[:1], f[:1], m[:1])[0] == "lost"


def test_rfm_input_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="recency_days must be a number"):
        rfm_scores([np.nan], [1], [5.0])
    with pytest.raises(ValueError, match="frequency must be >= 0"):
        rfm_scores([1.0], [-1], [5.0])
    with pytest.raises(ValueError, match="one value per customer"):
        rfm_scores([1.0, 2.0], [1], [5.0])
    with pytest.raises(ValueError, match=r"whole numbers 1\.\.5"):
        rfm_cells([0], [1], [1])


def test_every_rfm_combination_has_exactly_one_named_cell() -> None:
    combos = np.array(list(itertools.product(range(1, 6), repeat=3)))
    cells = rfm_cells(combos[:, 0], combos[:, 1], combos[:, 2])
    assert cells.shape == (125,)
    assert set(cells) == {cell.value for cell in RfmCell}  # all 11 cells reachable
    assert len(RFM_CELL_GRID) == 5 and all(len(row) == 5 for row in RFM_CELL_GRID)


def test_cells_follow_the_usual_meaning() -> None:
    assert rfm_cells([5], [5], [5])[0] == "champions"
    assert rfm_cells([1], [5], [5])[0] == "cannot_lose"
    assert rfm_cells([1], [1], [1])[0] == "lost"
    assert rfm_cells([5], [1], [1])[0] == "new"
    assert rfm_cells([2], [4], [3])[0] == "at_risk"
    assert rfm_cells([3], [5], [4])[0] == "loyal"


def test_every_cell_has_a_neutral_customer_label() -> None:
    for cell in RfmCell:
        label = customer_label(cell)
        assert label and label == RFM_CELL_DESCRIPTIONS[cell][1]
        for word in ("risk", "lost", "hibernat", "lose", "churn", "low"):
            assert word not in label.lower()


def test_churn_bands_split_at_the_thresholds() -> None:
    p = [0.0, 0.29, 0.3, 0.59, 0.6, 1.0]
    assert churn_band(p).tolist() == ["high", "high", "medium", "medium", "low", "low"]
    assert churn_band(p, high=0.1, medium=0.9).tolist() == [
        "high",
        "medium",
        "medium",
        "medium",
        "medium",
        "low",
    ]
    with pytest.raises(ValueError, match="thresholds"):
        churn_band(p, high=0.7, medium=0.6)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        churn_band([1.2])


def test_crossing_means_risk_rose() -> None:
    before = ["low", "low", "medium", "high", None, "medium"]
    after = ["medium", "high", "high", "low", "high", "medium"]
    assert crossed(before, after).tolist() == [True, True, True, False, False, False]
    assert crossed(before, after, into="high").tolist() == [
        False,
        True,
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="unknown risk band"):
        crossed(["low"], ["severe"])


def test_nps_is_promoters_minus_detractors_in_percent() -> None:
    assert nps([10, 9, 8, 7, 6, 0]) == pytest.approx(0.0)
    assert nps([10, 10, 9]) == 100.0
    assert nps([0, 6]) == -100.0
    assert nps([9, 7, 7, 3]) == 0.0
    assert nps([9, 9, 7, 3]) == 25.0
    assert nps([]) is None
    assert [nps_category(v) for v in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    with pytest.raises(ValueError, match=r"0\.\.10"):
        nps([11])


def test_csat_is_the_share_of_fours_and_fives() -> None:
    assert csat([5, 4, 3, 2]) == 50.0
    assert csat([1]) == 0.0
    assert csat([]) is None
    with pytest.raises(ValueError, match=r"1\.\.5"):
        csat([0])
    with pytest.raises(ValueError, match=r"1\.\.5"):
        csat([4.5])


def test_scores_from_counts_equal_scores_from_ratings() -> None:
    ratings = [10, 9, 8, 6, 2, 9, 7]
    assert nps_from_counts([3], [2], [7])[0] == pytest.approx(nps(ratings))
    assert csat_from_counts([3, 0], [4, 0]).tolist()[0] == 75.0
    assert np.isnan(nps_from_counts([0], [0], [0])[0])
    with pytest.raises(ValueError, match="must not exceed total"):
        nps_from_counts([3], [2], [4])
    with pytest.raises(ValueError, match="must not exceed total"):
        csat_from_counts([5], [4])
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        csat_from_counts([-1], [4])


def test_tier_ladders_are_validated() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        TierLadder([("silver", 100), ("gold", 100)])
    with pytest.raises(ValueError, match="unique"):
        TierLadder([("gold", 0), ("gold", 100)])
    with pytest.raises(ValueError, match="at least one"):
        TierLadder([])
    with pytest.raises(ValueError, match="finite"):
        TierLadder([("gold", float("nan"))])
    assert TierLadder([("bronze", 0), ("silver", 100)]).names == ("bronze", "silver")


def test_tier_progress_runs_from_one_threshold_to_the_next() -> None:
    ladder = TierLadder([("bronze", 100), ("silver", 500), ("gold", 1000)])
    index, next_threshold, progress = tier_for(
        [0, 50, 100, 300, 500, 999, 1000, 5000], ladder
    )
    assert index.tolist() == [-1, -1, 0, 0, 1, 1, 2, 2]
    assert next_threshold[:6].tolist() == [100, 100, 500, 500, 1000, 1000]
    assert np.isnan(next_threshold[6:]).all()
    assert progress.tolist() == pytest.approx([0, 0.5, 0, 0.5, 0, 0.998, 1, 1])
    assert np.all((progress >= 0) & (progress <= 1))


def test_cohort_medians_are_withheld_below_k_members() -> None:
    keys = np.array(["north"] * 20 + ["south"] * 19 + [None] * 5, dtype=object)
    values = np.concatenate([np.arange(20.0), np.arange(19.0), np.arange(5.0)])
    assert cohort_medians(keys, values) == {"north": 9.5}
    assert cohort_medians(keys, values, k=19) == {"north": 9.5, "south": 9.0}
    # Members without a value do not count towards k.
    values[0] = np.nan
    assert cohort_medians(keys, values) == {}
    with pytest.raises(ValueError, match="k must be >= 1"):
        cohort_medians(keys, values, k=0)


def test_cohort_percentiles_place_each_member_within_their_cohort() -> None:
    keys = np.array(["a"] * 21 + ["b"] * 3, dtype=object)
    values = np.concatenate([np.arange(21.0), [1.0, 2.0, 3.0]])
    values[5] = values[6] = 5.0  # a tie
    percentiles = cohort_percentiles(keys, values)
    assert percentiles[0] == 0.0 and percentiles[20] == 100.0
    assert percentiles[5] == percentiles[6] == pytest.approx(100 * 5.5 / 20)
    assert np.isnan(percentiles[21:]).all()  # cohort b is below k = 20
    assert cohort_percentiles(keys, values, k=3)[21:].tolist() == [0.0, 50.0, 100.0]


def test_cohort_keys_can_be_tuples_or_numbers() -> None:
    keys = np.empty(40, dtype=object)
    keys[:] = [(2026, "web")] * 20 + [(2026, "shop")] * 20
    values = np.arange(40.0)
    assert cohort_medians(keys, values) == {(2026, "web"): 9.5, (2026, "shop"): 29.5}
    assert cohort_medians(np.repeat([1, 2], 20), values) == {1: 9.5, 2: 29.5}
    as_list = [(2026, "web")] * 20 + [(2026, "shop")] * 20
    assert cohort_medians(as_list, values) == cohort_medians(keys, values)
    as_rows = np.array([[2026, 1]] * 20 + [[2026, 2]] * 20)
    assert cohort_medians(as_rows, values) == {(2026, 1): 9.5, (2026, 2): 29.5}
