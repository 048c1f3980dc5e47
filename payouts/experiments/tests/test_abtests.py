"""A/B test services: creating, starting, looking, promoting with one click, undoing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from affiliates.core.errors import DomainError
from affiliates.models import Creative
from payouts.experiments import abtests
from payouts.experiments.models import AbDecision
from payouts.experiments.tests.conftest import STAFF, day_row, make_test
from tracking.models import AbTest, AbVariant

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def running(offer: object, **fields: object) -> tuple[AbTest, AbVariant, AbVariant]:
    test = make_test(offer, min_sample=100, max_sample=1000, **fields)
    abtests.ab_test_start(actor=STAFF, test=test, now=START)
    a, b = test.variants.order_by("position")
    return test, a, b


def test_a_test_needs_two_to_five_variants_and_a_creative_test_needs_creatives(shoes) -> None:
    with pytest.raises(DomainError) as one:
        make_test(shoes, labels=("A",))
    assert one.value.code == "variant_count"
    with pytest.raises(DomainError) as creative:
        make_test(shoes, kind=AbTest.Kind.CREATIVE)
    assert creative.value.code == "creative_required"


def test_a_creative_test_names_its_creatives_and_the_first_variant_is_the_control(shoes) -> None:
    banners = [
        Creative.objects.create(
            offer=shoes, name=n, kind="banner", image_url=f"https://cdn.example.com/{n}.png"
        )
        for n in ("red", "blue")
    ]
    specs = [abtests.VariantSpec(label=c.name, creative=c) for c in banners]
    test = abtests.ab_test_create(
        actor=STAFF,
        offer=shoes,
        variants=specs,
        kind="creative",
        name="Banner colour",
        hypothesis="Blue wins.",
    )
    control = test.variants.get(is_control=True)
    assert (control.label, control.creative_id) == ("red", banners[0].pk)


def test_an_offer_runs_one_test_at_a_time(shoes) -> None:
    running(shoes)
    second = make_test(shoes)
    with pytest.raises(DomainError) as refused:
        abtests.ab_test_start(actor=STAFF, test=second)
    assert (refused.value.code, refused.value.status_code) == ("test_running", 409)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database says so too
        AbTest.objects.filter(pk=second.pk).update(status=AbTest.Status.RUNNING)


def test_a_look_before_the_minimum_sample_collects_and_spends_no_look(shoes) -> None:
    test, a, b = running(shoes)
    day_row(a, START.date(), 60, 3)
    day_row(b, START.date(), 60, 9)
    look = abtests.ab_test_look(test_id=test.pk, now=START + timedelta(hours=4))
    assert look is not None
    assert look["verdict"] == "collecting"
    test.refresh_from_db()
    assert (test.looks_done, test.alpha_spent) == (0, Decimal("0"))
    assert abtests.ab_test_look(test_id=test.pk, now=START + timedelta(hours=5)) is None  # one a day


def test_a_clear_winner_waits_for_one_click_and_undo_restores_everything(shoes, ada) -> None:
    test, a, b = running(shoes)
    with pytest.raises(DomainError) as early:
        abtests.ab_test_promote(actor=STAFF, test=test, variant_id=None, by=ada)
    assert early.value.code == "no_winner"
    day_row(a, START.date(), 900, 20)
    day_row(b, START.date(), 900, 80)
    look = abtests.ab_test_look(test_id=test.pk, now=START + timedelta(hours=4))
    assert look is not None
    assert (look["verdict"], look["winner"]) == ("winner", b.pk)
    assert AbTest.objects.get(pk=test.pk).status == AbTest.Status.RUNNING  # not automatic

    decision = abtests.ab_test_promote(actor=STAFF, test=test, variant_id=None, by=ada)
    assert (decision.kind, decision.winner_id, decision.automatic, decision.decided_by) == (
        "promote",
        b.pk,
        False,
        ada,
    )
    assert AbVariant.objects.get(pk=a.pk).status == AbVariant.Status.PAUSED
    test.refresh_from_db()
    assert test.status == AbTest.Status.DECIDED
    assert test.keep_until is not None
    assert ada.notifications.filter(title__contains="winner promoted").exists()

    abtests.ab_decision_undo(actor=STAFF, decision=decision, by=ada)
    test.refresh_from_db()
    assert test.status == AbTest.Status.RUNNING
    assert set(test.variants.values_list("status", flat=True)) == {AbVariant.Status.ACTIVE}
    with pytest.raises(DomainError) as again:
        abtests.ab_decision_undo(actor=STAFF, decision=AbDecision.objects.get(), by=ada)
    assert again.value.code == "already_undone"


def test_one_standing_decision_per_test_is_a_database_rule(shoes) -> None:
    test, a, _ = running(shoes)
    AbDecision.objects.create(test=test, kind="promote", winner=a)
    with pytest.raises(IntegrityError), transaction.atomic():
        AbDecision.objects.create(test=test, kind="promote", winner=a)


def test_revenue_per_click_is_tested_on_the_per_click_values(shoes) -> None:
    test, a, b = running(shoes, metric=AbTest.Metric.RPC, auto_promote=True)
    day_row(a, START.date(), 800, 40, Decimal("10"))
    day_row(b, START.date(), 800, 40, Decimal("30"))  # same CVR, three times the value
    look = abtests.ab_test_look(test_id=test.pk, now=START + timedelta(hours=4))
    assert look is not None
    assert look["winner"] == b.pk
    estimate = next(e for e in look["estimates"] if e["variant"] == b.pk)
    assert estimate["value"] == pytest.approx(1.5)
    assert estimate["low"] < 1.5 < estimate["high"]
    assert AbTest.objects.get(pk=test.pk).status == AbTest.Status.DECIDED


def test_the_horizon_without_a_winner_keeps_the_control(shoes) -> None:
    test, a, b = running(shoes, max_looks=1)
    day_row(a, START.date(), 500, 25)
    day_row(b, START.date(), 500, 26)
    look = abtests.ab_test_look(test_id=test.pk, now=START + timedelta(hours=4))
    assert look is not None
    assert look["verdict"] == "no_winner"
    test.refresh_from_db()
    assert test.status == AbTest.Status.ENDED
    assert test.decisions.get().winner_id == a.pk
    assert AbVariant.objects.get(pk=b.pk).status == AbVariant.Status.PAUSED
