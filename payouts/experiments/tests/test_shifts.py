"""Weekly budget shifts: proposals from the effect score, applied with one click or
automatically, logged and undoable, once a week."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from affiliates.core.errors import DomainError
from affiliates.models import OfferAccess
from affiliates.offer_targets import OfferTarget
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from payouts.experiments import shifts
from payouts.experiments.models import BudgetShift, ShiftSettings
from tracking.models import SmartPath, SmartPathDaily
from tracking.smartlinks.services import PathSpec, smart_link_create

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 9)  # a Monday


@pytest.fixture
def paths(acme, pixelpush, shoes) -> tuple[SmartPath, SmartPath]:
    boots = f.OfferFactory(
        advertiser=acme, name="Boots", landing_url="https://boots.example.com/?c={click_id}"
    )
    for offer in (shoes, boots):
        f.OfferAccessFactory(offer=offer, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
        OfferTarget.objects.create(offer=offer, period="week", conversions=50)
    actor = Actor(role=Role.ADVERTISER, advertiser_id=acme.pk)
    link = smart_link_create(
        actor=actor,
        publisher=pixelpush,
        name="Autumn",
        paths=[
            PathSpec(offer=shoes, weight=400, label="shoes"),
            PathSpec(offer=boots, weight=600, label="boots"),
            PathSpec(offer=boots, is_catch_all=True, label="rest"),
        ],
    )
    good, bad = link.paths.get(label="shoes"), link.paths.get(label="boots")
    for path, conversions, revenue in ((good, 40, "400"), (bad, 10, "400")):
        SmartPathDaily.objects.create(
            path=path, day=TODAY - timedelta(days=2), clicks=1000, conversions=conversions,
            currency="USD", revenue=Decimal(revenue), payout=Decimal("0"),
        )  # fmt: skip
    return good, bad


def test_a_week_proposes_moving_a_quarter_of_the_bottom_paths_weight_to_the_top(acme, paths, ada) -> None:
    good, bad = paths
    (shift,) = [
        s for s in shifts.budget_shifts_propose(advertiser=acme, today=TODAY) if s.lever == "path_weight"
    ]
    assert shift.status == BudgetShift.Status.PROPOSED
    assert shift.changes == {f"path:{bad.pk}": [600, 450], f"path:{good.pk}": [400, 550]}
    assert shift.numbers[f"path:{good.pk}"]["effect_score"] > shift.numbers[f"path:{bad.pk}"]["effect_score"]
    assert shifts.budget_shifts_propose(advertiser=acme, today=TODAY + timedelta(days=1)) == []  # once a week

    shifts.budget_shift_apply(shift=shift, by=ada, actor=Actor(role=Role.ADVERTISER, advertiser_id=acme.pk))
    assert (SmartPath.objects.get(pk=bad.pk).weight, SmartPath.objects.get(pk=good.pk).weight) == (450, 550)
    shifts.budget_shift_undo(shift=shift)
    assert (SmartPath.objects.get(pk=bad.pk).weight, SmartPath.objects.get(pk=good.pk).weight) == (600, 400)
    with pytest.raises(DomainError) as again:
        shifts.budget_shift_undo(shift=shift)
    assert again.value.code == "not_applied"


def test_automatic_application_applies_the_weeks_proposals(acme, paths) -> None:
    good, bad = paths
    shifts.shift_settings_set(advertiser=acme, auto_apply=True, share=Decimal("0.20"))
    shifts.budget_shifts_propose(advertiser=acme, today=TODAY)
    assert BudgetShift.objects.get(lever="path_weight").status == BudgetShift.Status.APPLIED
    assert (SmartPath.objects.get(pk=bad.pk).weight, SmartPath.objects.get(pk=good.pk).weight) == (480, 520)


def test_another_advertiser_cannot_apply_a_shift_and_the_share_stays_in_range(acme, globex, paths) -> None:
    (shift,) = shifts.budget_shifts_propose(advertiser=acme, today=TODAY)
    with pytest.raises(DomainError) as refused:
        shifts.budget_shift_apply(
            shift=shift, by=None, actor=Actor(role=Role.ADVERTISER, advertiser_id=globex.pk)
        )
    assert refused.value.status_code == 403
    with pytest.raises(DomainError):
        shifts.shift_settings_set(advertiser=acme, auto_apply=False, share=Decimal("0.5"))
    assert not ShiftSettings.objects.exists()
