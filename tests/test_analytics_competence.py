"""Competence-based classification: scores, value groups and value-creation modes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crm.analytics.competence import (
    LOYALTY_WEIGHTS,
    PARTICIPATION_WEIGHTS,
    VALUE_CREATION_MODES,
    Band,
    ValueCreationMode,
    active_scores,
    importance_scores,
    loyalty_from_components,
    loyalty_scores,
    participation,
    profitability_scores,
    quintile_scores,
    score_bands,
    strategic_default_scores,
    value_creation_matrix_markdown,
    value_creation_modes,
    value_groups,
    willingness_scores,
)


def test_the_mode_table_covers_every_pair_of_bands_once() -> None:
    pairs = set(itertools.product(Band, Band))
    assert set(VALUE_CREATION_MODES) == pairs
    assert set(VALUE_CREATION_MODES.values()) == set(ValueCreationMode)


def test_modes_follow_the_reasoning() -> None:
    modes = VALUE_CREATION_MODES
    # Low importance and low participation: the standard offer.
    assert modes[(Band.LOW, Band.LOW)] == ValueCreationMode.SUPPLY
    # Important but passive customers: tailored offers.
    assert modes[(Band.HIGH, Band.LOW)] == ValueCreationMode.CUSTOMIZATION
    # Customers who take an active part co-create, whatever their importance.
    assert {modes[(i, Band.HIGH)] for i in Band} == {ValueCreationMode.COOPERATION}


def test_every_score_pair_maps_through_the_table() -> None:
    imp, will = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    modes = value_creation_modes(imp.ravel(), will.ravel())
    bands_i, bands_w = score_bands(imp.ravel()), score_bands(will.ravel())
    for mode, i, w in zip(modes, bands_i, bands_w, strict=True):
        assert mode == VALUE_CREATION_MODES[(Band(i), Band(w))]


def test_the_markdown_matrix_is_rendered_from_the_table() -> None:
    text = value_creation_matrix_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "(" in line]
    assert len(rows) == 4  # header + three importance bands
    for line in rows[1:]:
        importance = Band(line.split("|")[1].split("(")[0].strip())
        cells = [c.strip() for c in line.strip("|").split("|")[1:]]
        assert cells == [VALUE_CREATION_MODES[(importance, w)].value for w in Band]
    for mode in ValueCreationMode:
        assert f"**{mode.value}**" in text


def test_bands_split_scores_low_medium_high() -> None:
    assert score_bands([1, 2, 3, 4, 5]).tolist() == [
        "low",
        "low",
        "medium",
        "high",
        "high",
    ]
    with pytest.raises(ValueError, match=r"1\.\.5"):
        score_bands([6])


def test_value_groups_apply_in_order_of_precedence() -> None:
    profitability = [5, 5, 2, 2, 3, 1]
    loyalty = [5, 1, 5, 5, 4, 3]
    strategic = [5, 1, 4, 1, 1, 3]
    assert value_groups(profitability, loyalty, strategic).tolist() == [
        "profitable",
        "profitable",
        "strategic",
        "loyal",
        "loyal",
        "low_value",
    ]


def test_every_score_combination_has_a_value_group() -> None:
    combos = np.array(list(itertools.product(range(1, 6), repeat=3)))
    groups = value_groups(combos[:, 0], combos[:, 1], combos[:, 2])
    assert set(groups) == {"profitable", "loyal", "strategic", "low_value"}
    assert np.all((groups == "low_value") == (combos.max(axis=1) < 4))


def test_profitability_and_default_strategic_value_are_quintiles() -> None:
    margin = np.array([-50.0, 0.0, 10.0, 20.0, 1000.0])
    assert profitability_scores(margin).tolist() == [1, 2, 3, 4, 5]
    assert strategic_default_scores(margin[::-1]).tolist() == [5, 4, 3, 2, 1]


def test_loyalty_rises_with_tenure_repeats_and_activity() -> None:
    assert sum(LOYALTY_WEIGHTS.values()) == pytest.approx(1.0)
    n = 10
    base = loyalty_scores(np.arange(n), np.arange(n), np.linspace(0, 1, n))
    assert base[0] == 1 and base[-1] == 5
    assert np.all(np.diff(base) >= 0)
    # Same history, lower probability of being active: never more loyal.
    less_active = loyalty_scores(np.arange(n), np.arange(n), np.zeros(n))
    assert np.all(less_active <= base)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        loyalty_scores([1], [1], [2.0])


def test_importance_is_the_higher_of_profitability_and_strategic_value() -> None:
    assert importance_scores([1, 5, 3], [4, 2, 3]).tolist() == [4, 5, 3]


def test_willingness_counts_customer_initiated_interactions() -> None:
    assert PARTICIPATION_WEIGHTS["feedback"] > PARTICIPATION_WEIGHTS["self_service"]
    feedback = [0, 1, 2, 0, 5, 0, 0]
    inbound = [0, 0, 0, 1, 0, 0, 0]
    corrections = [0, 0, 0, 0, 0, 1, 0]
    self_service = [0, 0, 0, 0, 4, 0, 2]
    scores = willingness_scores(feedback, inbound, corrections, self_service)
    assert scores[0] == 1  # took no part
    assert np.all(scores[1:] >= 2)
    assert scores[4] == 5  # the most engaged
    assert scores[1] == scores[5]  # one feedback weighs like one correction
    assert (
        scores[3] == scores[6]
    )  # one inbound contact weighs like two self-service uses
    with pytest.raises(ValueError, match=">= 0"):
        willingness_scores([-1], [0], [0], [0])


def test_loyalty_from_stored_components_equals_the_full_computation() -> None:
    rng = np.random.default_rng(5)
    tenure, repeat, alive = (
        rng.uniform(0, 900, 200),
        rng.poisson(3, 200),
        rng.random(200),
    )
    full = loyalty_scores(tenure, repeat, alive)
    from_parts = loyalty_from_components(
        quintile_scores(tenure), quintile_scores(repeat), alive
    )
    assert full.tolist() == from_parts.tolist()
    assert active_scores([0.0, 0.19, 0.2, 0.99, 1.0]).tolist() == [1, 1, 2, 5, 5]


def test_participation_is_the_weighted_count() -> None:
    weighted = participation([1, 0], [0, 2], [1, 0], [0, 4])
    w = PARTICIPATION_WEIGHTS
    assert weighted.tolist() == [
        w["feedback"] + w["corrections"],
        2 * w["inbound_contacts"] + 4 * w["self_service"],
    ]
