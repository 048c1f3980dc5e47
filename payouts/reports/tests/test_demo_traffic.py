"""tracking.demo writes raw traffic only, as tracking records it, once per day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from affiliates.models import Goal, Offer, OfferAccess
from affiliates.tests import factories as f
from payouts.models import Commission
from tracking.demo import demo_traffic_generate
from tracking.models import Click, Conversion, ConversionEvent, Impression, UnreconciledConversion

NOW = datetime(2024, 7, 20, 15, 30, tzinfo=UTC)


def _display_offer(advertiser: Any, publisher: Any) -> Offer:
    offer = f.OfferFactory(advertiser=advertiser, name="Banner")
    f.GoalFactory(
        offer=offer,
        code="imp",
        payout_type=Goal.PayoutType.CPM,
        payout=Decimal("2"),
        revenue=Decimal("3"),
        is_default=True,
    )
    f.OfferAccessFactory(offer=offer, publisher=publisher, status=OfferAccess.Status.APPROVED)
    return offer


def test_it_writes_clicks_and_conversions_as_tracking_records_them_without_money(
    shoes_link: Any, boots: Any, rival: Any
) -> None:
    f.OfferAccessFactory(offer=boots, publisher=rival, status=OfferAccess.Status.APPROVED)

    # Enough volume that every intake status shows whatever ids the database hands out (the
    # random streams are keyed by offer and publisher id): ~2% are rejected at intake.
    result = demo_traffic_generate(days=30, clicks_per_link_per_day=200, now=NOW)

    assert (result.days_written, result.first_day, result.last_day) == (30, date(2024, 6, 21), NOW.date())
    assert Click.objects.count() == result.clicks > 2000
    assert Conversion.objects.count() == result.conversions > 50
    # As posted at intake; later decisions belong to payouts' lifecycle, not to the traffic.
    assert set(Conversion.objects.values_list("status", flat=True)) == {"pending", "approved", "rejected"}
    assert UnreconciledConversion.objects.count() == result.conversions  # all left to payouts
    assert not Commission.objects.exists()
    assert not ConversionEvent.objects.exclude(from_status="").exists()  # only their creation
    assert not Click.objects.filter(created_at__gt=NOW).exists()
    assert not Conversion.objects.filter(created_at__gt=NOW).exists()


def test_a_conversion_goes_through_a_redirected_click_of_its_own_link(shoes_link: Any) -> None:
    demo_traffic_generate(days=5, clicks_per_link_per_day=80, now=NOW)

    conversions = list(Conversion.objects.select_related("click"))
    assert conversions
    for conversion in conversions:
        click = conversion.click
        assert click is not None
        assert click.reason == ""
        assert (click.offer_id, click.publisher_id) == (conversion.offer_id, conversion.publisher_id)
        assert conversion.click_time == click.created_at < conversion.created_at
        assert conversion.advertiser_id == shoes_link.offer.advertiser_id
        assert conversion.trace["verdict"]["status"] == conversion.status
        if conversion.goal.payout_type == Goal.PayoutType.CPS:
            assert conversion.amount is not None
            assert conversion.txn_id.startswith("ORD-")


def test_conversions_through_flagged_or_repeated_clicks_are_held_pending(shoes_link: Any) -> None:
    # About 7 % of conversions come through a flagged or repeated click, and the random streams
    # are keyed by the ids the database hands out (on PostgreSQL they depend on which tests ran
    # before): ~125 conversions leave no id combination without a held one (p < 1e-3).
    demo_traffic_generate(days=10, clicks_per_link_per_day=500, now=NOW)

    held = Conversion.objects.filter(held_for_review=True)
    assert held.exists()
    for conversion in held.select_related("click"):
        assert conversion.status == "pending"
        assert conversion.fraud_flags
        assert conversion.click.fraud_flags or not conversion.click.is_unique
    assert not Conversion.objects.filter(held_for_review=False).exclude(fraud_flags=[]).exists()


def test_only_display_offers_have_impressions(shoes_link: Any, acme: Any, pixelpush: Any) -> None:
    banner = _display_offer(acme, pixelpush)

    result = demo_traffic_generate(days=3, clicks_per_link_per_day=40, now=NOW)

    assert Impression.objects.count() == result.impressions > 0
    assert set(Impression.objects.values_list("offer_id", flat=True)) == {banner.pk}
    assert Impression.objects.count() > 5 * Click.objects.filter(offer=banner).count()
    assert not Conversion.objects.filter(offer=banner).exists()  # CPM pays per impression


def test_running_demo_traffic_twice_adds_nothing(shoes_link: Any) -> None:
    first = demo_traffic_generate(days=3, clicks_per_link_per_day=40, now=NOW)
    counts = (Click.objects.count(), Conversion.objects.count())

    second = demo_traffic_generate(days=3, clicks_per_link_per_day=40, now=NOW + timedelta(hours=3))

    assert (first.days_written, second.days_written, second.days_skipped) == (3, 0, 3)
    assert (Click.objects.count(), Conversion.objects.count()) == counts


def test_a_day_is_the_same_whatever_the_window_it_is_written_in(shoes_link: Any) -> None:
    demo_traffic_generate(days=2, clicks_per_link_per_day=40, now=NOW)
    clicks = set(Click.objects.values_list("id", flat=True))
    txn_ids = set(Conversion.objects.values_list("txn_id", "status"))
    Conversion.objects.all().delete()
    Click.objects.all().delete()

    demo_traffic_generate(days=6, clicks_per_link_per_day=40, now=NOW)

    since = datetime(2024, 7, 19, tzinfo=UTC)
    assert set(Click.objects.filter(created_at__gte=since).values_list("id", flat=True)) == clicks
    recent = Conversion.objects.filter(click__created_at__gte=since)
    assert set(recent.values_list("txn_id", "status")) == txn_ids
