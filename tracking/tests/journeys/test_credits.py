"""Each model's credit on small journeys, against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tracking.journeys import credits
from tracking.journeys.markov import Path, markov_allocate, markov_split, removal_effects

T = datetime(2026, 11, 20, 12, tzinfo=UTC)
D = Decimal


def test_a_journey_of_three_touches_is_credited_by_each_rule_as_worked_out_by_hand() -> None:
    assert credits.last_click(3) == [D(0), D(0), D(1)]
    assert credits.first_click(3) == [D(1), D(0), D(0)]
    assert credits.linear(3) == [D("0.3333333333"), D("0.3333333333"), D("0.3333333334")]
    assert credits.position_based(3) == [D("0.4"), D("0.2"), D("0.4")]


def test_position_based_gives_the_middle_touches_twenty_percent_between_them() -> None:
    assert credits.position_based(4) == [D("0.4"), D("0.1"), D("0.1"), D("0.4")]
    assert credits.position_based(2) == [D("0.5"), D("0.5")]
    assert credits.position_based(1) == [D(1)]


def test_time_decay_halves_a_touch_for_every_seven_days_before_the_conversion() -> None:
    # weights 1/4, 1/2, 1 -> 1/7, 2/7, 4/7
    times = [T - timedelta(days=14), T - timedelta(days=7), T]
    assert credits.time_decay(times, T) == [D("0.1428571429"), D("0.2857142857"), D("0.5714285714")]


def test_every_model_sums_to_exactly_one_conversion() -> None:
    times = [T - timedelta(hours=h) for h in (300, 170, 90, 30, 1, 0)]
    for shares in (
        credits.linear(7),
        credits.position_based(7),
        credits.time_decay(times, T),
        markov_split([1, 2, 1, 3], {1: 0.3, 2: 0.7, 3: 0.1}),
    ):
        assert sum(shares) == 1


def test_roles_name_the_introducer_the_influencers_and_the_closer() -> None:
    assert credits.roles(1) == ["closer"]
    assert credits.roles(2) == ["introducer", "closer"]
    assert credits.roles(4) == ["introducer", "influencer", "influencer", "closer"]


def test_the_removal_effect_is_what_the_markov_chain_loses_without_each_channel() -> None:
    # Paths: A > B converts, B converts, A alone does not. P(start>A)=2/3, P(start>B)=1/3,
    # P(A>B)=P(A>null)=1/2, B always converts: P(conversion) = 2/3 * 1/2 + 1/3 = 2/3.
    # Without A: 1/3, effect 1 - (1/3)/(2/3) = 1/2. Without B nothing converts: effect 1.
    paths = [Path(("A", "B"), conversions=1), Path(("B",), conversions=1), Path(("A",), nulls=1)]
    effects = removal_effects(paths)
    assert effects["A"] == pytest.approx(0.5)
    assert effects["B"] == pytest.approx(1.0)
    # channelattribution's allocation: 2 conversions split 0.5 : 1.
    allocated = markov_allocate(paths)
    assert allocated["A"] == pytest.approx(2 / 3)
    assert allocated["B"] == pytest.approx(4 / 3)
    # One journey A > B takes its conversion in the same proportion.
    assert markov_split(["A", "B"], effects) == [D("0.3333333333"), D("0.6666666667")]


def test_repeats_of_a_channel_collapse_and_share_its_credit_within_the_journey() -> None:
    # Paths without nulls: A > A > B and B both convert. Without A, half the walks (start>A)
    # are lost: effect 1/2; without B none converts: effect 1.
    paths = [Path(("A", "A", "B"), conversions=1), Path(("B",), conversions=1)]
    effects = removal_effects(paths)
    assert effects == pytest.approx({"A": 0.5, "B": 1.0})
    # A's third is split over its two touches.
    assert markov_split(["A", "A", "B"], effects) == [D("0.1666666667"), D("0.1666666667"), D("0.6666666666")]


def test_a_three_channel_chain_matches_the_hand_solved_absorption_probabilities() -> None:
    # A > B > C converts twice, A > C converts once, B > C fails once.
    # start: A 3/4, B 1/4. A: B 2/3, C 1/3. B: C 1. C: conv 3/4, null 1/4.
    # P = 3/4 (at C) on every route: 0.75. Without C: 0 (effect 1). Without B:
    # start>A>C = 3/4 * 1/3 * 3/4 = 3/16 -> effect 1 - (3/16)/(3/4) = 3/4. Without A:
    # start>B>C = 1/4 * 3/4 = 3/16 -> effect 3/4.
    paths = [
        Path(("A", "B", "C"), conversions=2),
        Path(("A", "C"), conversions=1),
        Path(("B", "C"), nulls=1),
    ]
    effects = removal_effects(paths)
    assert effects == pytest.approx({"A": 0.75, "B": 0.75, "C": 1.0})
    allocated = markov_allocate(paths)
    assert allocated == pytest.approx({"A": 3 * 0.75 / 2.5, "B": 3 * 0.75 / 2.5, "C": 3 * 1 / 2.5})


def test_a_journey_without_any_learnt_effect_is_split_linearly() -> None:
    assert markov_split(["X", "Y"], {}) == [D("0.5"), D("0.5")]
