"""payouts.demo settles demo traffic through reconciliation, the commission lifecycle and a
paid payout run, with every posting dated on the replayed day, and does it once.

Settling 39 days of traffic takes most of this module's time, so it is done once (``settled``)
and the tests read what it wrote; the one that settles again does it in its own transaction,
rolled back after it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Goal, OfferAccess
from affiliates.tests import factories as f
from conftest import ACME_POSTBACK_TOKEN
from payouts.demo import DemoMoneyResult, demo_money_settle
from payouts.models import Commission, Entry, Payout, PayoutRun, Transaction
from tracking.demo import demo_traffic_generate
from tracking.models import Conversion, ConversionEvent, UnreconciledConversion

NOW = datetime(2024, 7, 20, 15, 0, tzinfo=UTC)
FIRST_DAY = date(2024, 6, 12)
# One xdist worker takes the whole module (make test runs --dist loadgroup), so it settles once.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo_money")]


@pytest.fixture(scope="module")
def network(module_db: None, django_db_blocker: Any) -> dict[str, Any]:
    """Two links: acme's USD shop (the shared ``shoes`` persona: CPS + CPL, here with a 7-day
    hold) run by pixelpush, and globex's EUR boots (CPA + CPC, 14-day hold) run by rival; nadia
    is staff. Module-scoped, so built here rather than from the function-scoped personas."""
    with django_db_blocker.unblock():
        nadia = f.UserFactory(username="nadia", is_staff=True, is_superuser=True)
        acme = f.AdvertiserFactory(name="Acme Shoes", currency="USD", postback_token=ACME_POSTBACK_TOKEN)
        globex = f.AdvertiserFactory(name="Globex", currency="EUR")
        pixelpush = f.PublisherFactory(name="PixelPush Media", email="ops@pixelpush.example")
        rival = f.PublisherFactory(name="Rival Traffic", email="hello@rival.example")
        shoes = f.OfferFactory(
            advertiser=acme,
            name="Acme Shoes - Summer Sale",
            category="retail",
            landing_url="https://shoes.example.com/?cid={click_id}&s1={sub1}&src={source}",
            allowed_domains=["shoes.example.com"],
            deep_links_allowed=True,
            hold_days=7,
        )
        f.GoalFactory(
            offer=shoes,
            code="sale",
            name="Sale",
            payout_type=Goal.PayoutType.CPS,
            payout=Decimal("8"),
            revenue=Decimal("12"),
            is_default=True,
        )
        f.GoalFactory(
            offer=shoes,
            code="lead",
            name="Newsletter lead",
            payout_type=Goal.PayoutType.CPL,
            payout=Decimal("1.50"),
            revenue=Decimal("2.00"),
        )
        f.OfferAccessFactory(offer=shoes, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
        boots = f.OfferFactory(advertiser=globex, name="Globex Boots", currency="EUR", hold_days=14)
        f.GoalFactory(offer=boots, code="order", payout="4", revenue="6.5", is_default=True)
        f.GoalFactory(
            offer=boots, code="click", payout_type=Goal.PayoutType.CPC, payout="0.05", revenue="0.08"
        )
        f.OfferAccessFactory(offer=boots, publisher=rival, status=OfferAccess.Status.APPROVED)
    return {"nadia": nadia}


@pytest.fixture(scope="module")
def settled(network: dict[str, Any], django_db_blocker: Any) -> DemoMoneyResult:
    """39 days of traffic up to 2024-07-20 on both links, settled."""
    with django_db_blocker.unblock():
        traffic = demo_traffic_generate(
            days=(NOW.date() - FIRST_DAY).days + 1, clicks_per_link_per_day=40, now=NOW
        )
        return demo_money_settle(first_day=traffic.first_day, now=NOW, staff_user=network["nadia"])


@pytest.fixture
def nadia(network: dict[str, Any]) -> Any:
    return network["nadia"]


def test_every_conversion_has_its_commission_in_the_same_status(settled: DemoMoneyResult) -> None:
    assert not UnreconciledConversion.objects.exists()
    earning = Conversion.objects.exclude(reason="advertiser_rejected")
    assert (
        settled.commissions_created == earning.count() == Commission.objects.filter(kind="conversion").count()
    )
    for conversion in earning.select_related("commission"):
        assert conversion.commission.status == conversion.status
    assert set(Commission.objects.values_list("status", flat=True)) == {
        "pending",
        "approved",
        "rejected",
        "reversed",
    }
    assert Commission.objects.filter(kind="cpc").count() == settled.daily_lines_created > 0


def test_decisions_are_taken_by_advertisers_staff_and_the_hold_with_reasons(
    settled: DemoMoneyResult, nadia: Any
) -> None:
    decisions = ConversionEvent.objects.exclude(from_status="")  # after each one's creation event
    events = list(decisions.values_list("actor", "to_status", "reason"))
    actors = {actor.split(":")[0] for actor, _, _ in events}
    assert actors == {"advertiser", "staff", "hold"}
    assert all(reason for _, _, reason in events)
    assert ("hold", "approved", "hold period passed") in events
    assert any(actor == f"staff:{nadia.pk}" and status == "rejected" for actor, status, _ in events)
    # Every decision is one event, but CPC lines (no conversion) and the refund (a postback).
    lines_approved = Commission.objects.filter(kind="cpc", status="approved").count()
    assert sum(settled.decided.values()) == len(events) - settled.refunds_after_payout + lines_approved


def test_postings_are_balanced_and_dated_on_the_day_they_happened(settled: DemoMoneyResult) -> None:
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for txn_id, currency, amount in Entry.objects.values_list("transaction_id", "currency", "amount"):
        totals[(txn_id, currency)] += amount
    assert totals
    assert not any(totals.values())
    first = Transaction.objects.order_by("created_at").first()
    assert first is not None
    assert first.created_at.date() >= FIRST_DAY
    june = Transaction.objects.filter(created_at__lt=datetime(2024, 7, 1, tzinfo=UTC))
    assert june.filter(kind=Transaction.Kind.APPROVAL).exists()
    for commission in Commission.objects.filter(kind="conversion").select_related("conversion"):
        assert commission.created_at >= commission.conversion.created_at


def test_last_month_is_paid_and_an_order_is_refunded_after_the_payout(settled: DemoMoneyResult) -> None:
    run = PayoutRun.objects.get(period=date(2024, 6, 1))
    assert run.status == PayoutRun.Status.PAID
    assert settled.run == run
    payouts = list(Payout.objects.filter(run=run))
    assert payouts
    assert settled.payouts_paid == len(payouts)
    for payout in payouts:
        assert payout.status == Payout.Status.PAID
        assert payout.payment_reference
        assert Transaction.objects.filter(key=f"payout:{payout.pk}", kind=Transaction.Kind.PAYOUT).exists()
    refunded = Commission.objects.get(status="reversed", reversed_at__gte=run.paid_at)
    assert settled.refunds_after_payout == 1
    assert refunded.approved_at is not None
    assert refunded.approved_at < datetime(2024, 7, 1, tzinfo=UTC)
    assert refunded.publisher_id in {p.publisher_id for p in payouts}
    assert ConversionEvent.objects.filter(
        conversion=refunded.conversion, to_status="reversed", actor=f"advertiser:{refunded.advertiser_id}"
    ).exists()


def test_settling_again_changes_nothing(settled: DemoMoneyResult, nadia: Any) -> None:
    before = (Transaction.objects.count(), Entry.objects.count(), ConversionEvent.objects.count())

    again = demo_money_settle(first_day=FIRST_DAY, now=NOW, staff_user=nadia)

    assert not again.changed
    assert (Transaction.objects.count(), Entry.objects.count(), ConversionEvent.objects.count()) == before
    assert PayoutRun.objects.count() == 1
