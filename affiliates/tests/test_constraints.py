"""Each database constraint refuses a bad row written straight to the table (no validation),
on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from affiliates.models import Advertiser, Cap, Coupon, CustomPayout, Goal, OfferAccess, Publisher
from affiliates.tests import factories as f


def _offer_with_goal() -> Any:
    goal = f.GoalFactory(code="sale", is_default=True)
    return goal.offer


BAD_ROWS: dict[str, Callable[[], Any]] = {
    "publisher_min_payout_gte_0": lambda: f.PublisherFactory(minimum_payout=Decimal("-1")),
    "offer_ends_after_start": lambda: f.OfferFactory(
        starts_at=timezone.now(), ends_at=timezone.now() - timedelta(days=1)
    ),
    "offer_ctc_max_gte_min": lambda: f.OfferFactory(
        min_click_to_conversion_seconds=60, max_click_to_conversion_seconds=10
    ),
    "goal_unique_code_per_offer": lambda: f.GoalFactory(offer=_offer_with_goal(), code="sale"),
    "goal_one_default_per_offer": lambda: f.GoalFactory(offer=_offer_with_goal(), code="b", is_default=True),
    "goal_amounts_gte_0": lambda: f.GoalFactory(payout=Decimal("-0.01")),
    "goal_revenue_gte_0": lambda: f.GoalFactory(revenue=Decimal("-5")),
    "goal_cps_percent_lte_100": lambda: f.GoalFactory(payout_type="cps", payout=Decimal("100.01")),
    "custom_payout_amounts_gte_0": lambda: f.CustomPayoutFactory(payout=Decimal("-1")),
    "custom_payout_revenue_gte_0": lambda: f.CustomPayoutFactory(revenue=Decimal("-1")),
    "cap_limit_gte_0": lambda: f.CapFactory(limit=Decimal("-1")),
    "cap_unique_rule": lambda: [
        f.CapFactory(offer=offer, metric="clicks", period="day") for offer in [f.OfferFactory()] * 2
    ],
    "cap_unique_publisher_rule": lambda: [
        f.CapFactory(offer=offer, publisher=pub, scope="each_publisher")
        for offer, pub in [(f.OfferFactory(), f.PublisherFactory())] * 2
    ],
    "coupon_code_unique": lambda: [f.CouponFactory(code="SAME"), f.CouponFactory(code="SAME")],
    "access_one_per_offer_publisher": lambda: [
        f.OfferAccessFactory(offer=o, publisher=p) for o, p in [(f.OfferFactory(), f.PublisherFactory())] * 2
    ],
    "access_token_unique": lambda: [
        OfferAccess.objects.create(offer=f.OfferFactory(), publisher=f.PublisherFactory(), token="t" * 22)
        for _ in range(2)
    ],
    "advertiser_postback_token_unique": lambda: [
        Advertiser.objects.create(name=n, postback_token_digest="d" * 64) for n in "ab"
    ],
}


@pytest.mark.django_db
@pytest.mark.parametrize("constraint", sorted(BAD_ROWS))
def test_the_database_refuses_a_row_that_breaks(constraint: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        BAD_ROWS[constraint]()


@pytest.mark.django_db
def test_rows_at_the_limits_are_accepted() -> None:
    offer = _offer_with_goal()
    f.GoalFactory(offer=offer, code="all", payout_type="cps", payout=Decimal("100"), revenue=Decimal("0"))
    f.CapFactory(offer=offer, limit=Decimal("0"))
    f.CapFactory(offer=offer, publisher=f.PublisherFactory(), scope="each_publisher")
    f.CustomPayoutFactory(offer=offer, payout=Decimal("0"), revenue=None)
    f.PublisherFactory(minimum_payout=Decimal("0"))
    assert Goal.objects.filter(offer=offer).count() == 2
    assert Cap.objects.filter(offer=offer).count() == 2
    assert CustomPayout.objects.filter(offer=offer).count() == 1
    assert Publisher.objects.filter(minimum_payout=0).exists()
    assert Coupon.objects.count() == 0
