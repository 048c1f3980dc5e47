"""The smart-link optimiser: a simulation with known conversion rates converges on the best
path while the floor keeps every path alive; runs are stored with inputs and weights; the
rollup it reads counts clicks and commissions per path; adding a path resets learning."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from affiliates.models import OfferAccess
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from payouts.smartlinks.optimiser import PathNumbers, conservative_shift, thompson_shares
from payouts.smartlinks.rollup import smart_rollup_refresh
from payouts.smartlinks.services import smart_link_optimise
from payouts.smartlinks.tasks import smart_links_optimise_tick
from payouts.tests.factories_callbacks import ConversionFactory
from payouts.tests.factories_payouts import CommissionFactory
from tracking.models import SmartLink, SmartPath, SmartPathDaily, SmartRun
from tracking.smartlinks.services import PathSpec, smart_link_create, smart_path_add
from tracking.tests.factories import click_make, smart_path_day_make

STAFF = Actor(role=Role.STAFF)
FLOOR = 0.05
ROUND = 500  # clicks between two optimiser runs
CONVERGED_BY = 20_000  # the stated bound: the best path leads with >= 80 % by then


def simulate(
    true_rates: list[float], *, kpi: str = "cvr", values: list[float] | None = None, seed: int = 7
) -> list[dict[int, float]]:
    """Traffic split by the current shares, conversions drawn from the true rates, then a run;
    returns the shares after each round."""
    rng = np.random.default_rng(seed)
    n = len(true_rates)
    values = values or [1.0] * n
    shares = {i: 1 / n for i in range(n)}
    clicks, conv = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    history = []
    for _ in range(CONVERGED_BY // ROUND):
        sent = rng.multinomial(ROUND, [shares[i] for i in range(n)])
        clicks += sent
        conv += rng.binomial(sent, true_rates)
        numbers = [
            PathNumbers(
                i, int(clicks[i]), int(conv[i]), float(conv[i] * values[i]), float(conv[i] * values[i])
            )
            for i in range(n)
        ]
        shares = thompson_shares(numbers, kpi=kpi, floor=FLOOR, rng=rng)
        history.append(shares)
    return history


def test_thompson_sampling_converges_on_the_best_path_and_the_floor_keeps_the_others_alive() -> None:
    history = simulate([0.02, 0.03, 0.06])
    final = history[-1]
    assert final[2] >= 0.80, final  # the best path, within CONVERGED_BY clicks
    assert all(share >= FLOOR - 1e-9 for shares in history for share in shares.values())
    assert min(final.values()) == pytest.approx(FLOOR, abs=0.01)  # the losers keep their floor
    assert sum(final.values()) == pytest.approx(1.0)
    # It learns early: by a quarter of the clicks the best path already leads.
    assert max(history[len(history) // 4], key=history[len(history) // 4].get) == 2


def test_on_epc_a_lower_rate_with_a_bigger_payout_wins() -> None:
    # Path 0 converts 5 % at 1.00, path 1 converts 2 % at 5.00: EPC 0.05 vs 0.10.
    final = simulate([0.05, 0.02], kpi="epc", values=[1.0, 5.0])[-1]
    assert final[1] >= 0.80, final


def test_the_conservative_mode_moves_a_quarter_of_the_losers_traffic_to_the_winners() -> None:
    numbers = [PathNumbers(1, 1000, 10, 0, 0), PathNumbers(2, 1000, 40, 0, 0), PathNumbers(3, 1000, 20, 0, 0)]
    shares = conservative_shift(numbers, {1: 40.0, 2: 30.0, 3: 30.0}, kpi="cvr", shift=0.25, floor=FLOOR)
    assert shares[1] == pytest.approx(0.30)  # the loser gave 25 % of its 40 %
    assert shares[2] == pytest.approx(0.40)  # the winner got it
    assert shares[3] == pytest.approx(0.30)  # the middle path is left alone
    assert sum(shares.values()) == pytest.approx(1.0)


# --- Runs on the database --------------------------------------------------------------------


@pytest.fixture
def auto_link(acme: Any, pixelpush: Any) -> SmartLink:
    offers = []
    for name in ("a", "b", "rest"):
        offer = f.OfferFactory(advertiser=acme, name=name)
        f.OfferAccessFactory(offer=offer, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
        offers.append(offer)
    return smart_link_create(
        actor=STAFF,
        publisher=pixelpush,
        name="Auto",
        paths=[
            PathSpec(offer=offers[0], weight=50),
            PathSpec(offer=offers[1], weight=50),
            PathSpec(offer=offers[2], is_catch_all=True),
        ],
        mode=SmartLink.Mode.AUTO,
        min_clicks=100,
    )


def _live(link: SmartLink) -> list[SmartPath]:
    return list(link.paths.filter(is_catch_all=False).order_by("pk"))


@pytest.mark.django_db
def test_a_run_under_the_minimum_clicks_keeps_the_weights_and_says_why(auto_link: SmartLink) -> None:
    a, b = _live(auto_link)
    smart_path_day_make(path=a, clicks=500, conversions=20)
    smart_path_day_make(path=b, clicks=40, conversions=1)
    run = smart_link_optimise(smart_link_id=auto_link.pk)
    assert run is not None
    assert run.outcome == SmartRun.Outcome.LEARNING
    assert f"Paths {b.pk} have fewer than 100 clicks" in run.note
    assert run.weights_after == run.weights_before
    assert [p.weight for p in _live(auto_link)] == [50, 50]


@pytest.mark.django_db
def test_a_run_moves_weight_to_the_better_path_and_is_stored_with_its_inputs(auto_link: SmartLink) -> None:
    a, b = _live(auto_link)
    smart_path_day_make(path=a, clicks=2000, conversions=20)
    smart_path_day_make(path=b, clicks=2000, conversions=90)
    smart_path_day_make(
        path=b, clicks=5000, conversions=0, days_ago=30
    )  # outside the 14-day look-back window: ignored
    SmartLink.objects.filter(pk=auto_link.pk).update(learning_since=timezone.now() - timedelta(days=60))
    run = smart_link_optimise(smart_link_id=auto_link.pk)
    assert run is not None
    assert run.outcome == SmartRun.Outcome.APPLIED
    seen = run.inputs["paths"][str(b.pk)]
    assert (seen["clicks"], seen["conversions"], seen["kpi_per_click"]) == (2000, 90, 0.045)
    assert (Decimal(seen["revenue"]), Decimal(seen["payout"])) == (Decimal("270"), Decimal("180"))
    assert run.inputs["since"] == (timezone.now() - timedelta(days=13)).date().isoformat()
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.weight > 9000
    assert a.weight >= 500
    assert run.weights_before == {
        str(a.pk): 50,
        str(b.pk): 50,
        str(auto_link.paths.get(is_catch_all=True).pk): 100,
    }
    assert run.weights_after[str(b.pk)] == b.weight
    # Not due again until its schedule says so.
    assert smart_link_optimise(smart_link_id=auto_link.pk) is None


@pytest.mark.django_db
def test_adding_a_path_resets_learning(auto_link: SmartLink, acme: Any, pixelpush: Any) -> None:
    a, b = _live(auto_link)
    smart_path_day_make(path=a, clicks=2000, conversions=20, days_ago=1)
    smart_path_day_make(path=b, clicks=2000, conversions=90, days_ago=1)
    offer = f.OfferFactory(advertiser=acme)
    f.OfferAccessFactory(offer=offer, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
    smart_path_add(actor=STAFF, smart=auto_link, spec=PathSpec(offer=offer))
    reset = SmartRun.objects.get(smart_link=auto_link)
    assert reset.outcome == SmartRun.Outcome.RESET
    assert "learning starts again" in reset.note
    run = smart_link_optimise(smart_link_id=auto_link.pk)
    assert run is not None
    assert run.outcome == SmartRun.Outcome.LEARNING
    assert all(p["clicks"] == 0 for p in run.inputs["paths"].values())


@pytest.mark.django_db
def test_the_rollup_counts_each_paths_clicks_and_earning_commissions(
    auto_link: SmartLink, pixelpush: Any
) -> None:
    a, b = _live(auto_link)
    for _ in range(3):
        click_make(a.offer, pixelpush, smart_path_id=a.pk)
    click_make(a.offer, pixelpush, smart_path_id=a.pk, reason="cap_reached")  # refused: not the path's
    click_make(b.offer, pixelpush)  # a plain click
    converted = click_make(b.offer, pixelpush, smart_path_id=b.pk)
    goal = f.GoalFactory(offer=b.offer)
    conversion = ConversionFactory(goal=goal, publisher=pixelpush, click=converted)
    CommissionFactory(conversion=conversion, revenue=Decimal("7.50"), payout=Decimal("5.00"))
    today = timezone.now().date()
    assert smart_rollup_refresh(first=today - timedelta(days=1), last=today) == 2
    rows = {r.path_id: r for r in SmartPathDaily.objects.all()}
    assert (rows[a.pk].clicks, rows[a.pk].conversions) == (3, 0)
    assert (rows[b.pk].clicks, rows[b.pk].conversions, rows[b.pk].revenue, rows[b.pk].payout) == (
        1, 1, Decimal("7.50"), Decimal("5.00"),
    )  # fmt: skip
    # The beat task refreshes the same days again (idempotent) and runs the due link.
    assert smart_links_optimise_tick() == {"rollup_rows": 2, "runs": 1}
    assert SmartPathDaily.objects.count() == 2
