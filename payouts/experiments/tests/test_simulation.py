"""Simulations with known truths: a variant that truly converts better is declared the winner
within the stated sample, and an A/A test rarely declares anything (the stopping rule keeps the
false-positive rate at alpha despite the repeated looks).

Stated sample: true CVRs 4 % and 6 %, 800 clicks per variant a day, the weekly preset (7 daily
looks, Bonferroni across them, alpha 0.05): the winner is declared by the 7th look, that is
within 5,600 clicks per variant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from payouts.experiments import abtests, stats
from payouts.experiments.tests.conftest import STAFF, day_row, make_test
from tracking.models import AbTest, AbVariant

TRUE_CVR = {"A": 0.04, "B": 0.06}
PER_DAY = 800
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _run(offer: object, seed: int, **fields: object) -> tuple[dict[str, object], dict[str, AbVariant]]:
    rng = np.random.default_rng(seed)
    test = make_test(offer, min_sample=500, max_sample=7 * PER_DAY, **fields)
    abtests.ab_test_start(actor=STAFF, test=test, now=START)
    variants = {v.label: v for v in test.variants.all()}
    look: dict[str, object] = {}
    for day in range(7):
        for label, v in variants.items():
            day_row(
                v, (START + timedelta(days=day)).date(), PER_DAY, int(rng.binomial(PER_DAY, TRUE_CVR[label]))
            )
        look = abtests.ab_test_look(test_id=test.pk, now=START + timedelta(days=day, hours=12)) or {}
        if look["verdict"] != "continue":
            break
    return look, variants


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_truly_better_variant_wins_within_the_stated_sample_and_the_loser_is_paused(shoes, seed) -> None:
    look, variants = _run(shoes, seed, auto_promote=True, **abtests.PRESET_WEEKLY)
    assert look["verdict"] == "winner"
    assert look["winner"] == variants["B"].pk
    assert isinstance(look["fewest_clicks"], int)
    assert look["fewest_clicks"] <= 7 * PER_DAY
    test = AbTest.objects.get()
    assert test.status == AbTest.Status.DECIDED
    assert AbVariant.objects.get(pk=variants["A"].pk).status == AbVariant.Status.PAUSED
    decision = test.decisions.get()
    assert decision.automatic
    assert decision.winner_id == variants["B"].pk


@pytest.mark.django_db
def test_the_sequential_rule_also_finds_the_better_variant_within_the_horizon(shoes) -> None:
    look, variants = _run(shoes, 4, auto_promote=False, stopping_rule=AbTest.StoppingRule.SEQUENTIAL)
    assert (look["verdict"], look["winner"]) == ("winner", variants["B"].pk)
    assert AbTest.objects.get().status == AbTest.Status.RUNNING  # waits for one click


def test_an_a_a_test_declares_a_winner_at_most_about_alpha_of_the_time() -> None:
    rng = np.random.default_rng(7)
    runs, false_positives, alpha, looks = 400, 0, 0.05, 7
    for _ in range(runs):
        clicks, conversions, spent = np.zeros(2, int), np.zeros(2, int), 0.0
        for look in range(1, looks + 1):
            clicks += PER_DAY
            conversions += rng.binomial(PER_DAY, 0.05, size=2)
            cumulative = stats.alpha_spent(rule="fixed", alpha=alpha, look=look, max_looks=looks, fraction=1)
            numbers = [stats.Numbers(i, int(clicks[i]), int(conversions[i]), 0.0, 0.0) for i in range(2)]
            _, (comparison,) = stats.compare(
                numbers, control_id=0, metric="cvr", look_alpha=cumulative - spent
            )
            spent = cumulative
            if comparison.significant:
                false_positives += 1
                break
    assert false_positives / runs <= alpha


def test_the_sequential_spending_is_small_early_and_reaches_alpha_at_the_horizon() -> None:
    early = stats.alpha_spent(rule="sequential", alpha=0.05, look=1, max_looks=7, fraction=0.2)
    assert early < 0.001
    assert stats.alpha_spent(
        rule="sequential", alpha=0.05, look=7, max_looks=7, fraction=1.0
    ) == pytest.approx(0.05)


def test_each_variant_gets_a_wilson_interval_and_a_t_interval_for_money() -> None:
    cvr = stats.estimate(stats.Numbers(1, 1000, 50, 0.0, 0.0), "cvr")
    assert cvr.low < 0.05 < cvr.high
    assert (round(cvr.low, 4), round(cvr.high, 4)) == (0.0381, 0.0653)
    epc = stats.estimate(stats.Numbers(2, 1000, 50, 50 * 2.0, 50 * 4.0), "epc")
    assert epc.low < 0.1 < epc.high
