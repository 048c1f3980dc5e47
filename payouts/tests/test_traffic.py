from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from affiliates.models import Goal
from affiliates.tests import factories as f
from payouts.models import Account, Commission, Transaction
from payouts.tests.helpers import balance, every_transaction_balances
from payouts.traffic import traffic_reconcile
from tracking.ids import new_click_id
from tracking.models import Click, Impression

K = Account.Kind
pytestmark = pytest.mark.django_db


@pytest.fixture
def banner(acme):
    offer = f.OfferFactory(advertiser=acme, name="Banner")
    f.GoalFactory(
        offer=offer,
        code="click",
        payout_type=Goal.PayoutType.CPC,
        payout=Decimal("0.015"),
        revenue=Decimal("0.025"),
        is_default=True,
    )
    f.GoalFactory(
        offer=offer,
        code="view",
        payout_type=Goal.PayoutType.CPM,
        payout=Decimal("1.10"),
        revenue=Decimal("2.00"),
    )
    return offer


def _clicks(offer, publisher, n, *, unique=True, reason="", country=""):
    now = timezone.now()
    Click.objects.bulk_create(
        Click(
            id=new_click_id(),
            offer=offer,
            publisher=publisher,
            created_at=now,
            is_unique=unique,
            reason=reason,
            country=country,
        )
        for _ in range(n)
    )


def _today():
    day = timezone.now().date()
    return traffic_reconcile(day_from=day, day_to=day)


def test_unique_redirected_clicks_make_one_daily_line_that_grows(banner, pixelpush):
    _clicks(banner, pixelpush, 10)
    _clicks(banner, pixelpush, 5, unique=False)  # repeats are not paid
    _clicks(banner, pixelpush, 5, reason="geo_mismatch")  # nor clicks that were not redirected
    assert _today() == {"created": 1, "grown": 0}
    line = Commission.objects.get(kind="cpc")
    assert (line.quantity, line.payout, line.revenue) == (10, Decimal("0.15"), Decimal("0.25"))
    _clicks(banner, pixelpush, 91)
    assert _today() == {"created": 0, "grown": 1}
    line.refresh_from_db()
    # 101 x 0.015 = 1.515 -> 1.52 rounded once on the day's total, not per increment.
    assert (line.quantity, line.payout, line.revenue) == (101, Decimal("1.52"), Decimal("2.53"))
    kinds = list(line.transactions.values_list("kind", flat=True))
    assert kinds == [Transaction.Kind.COMMISSION, Transaction.Kind.COMMISSION_INCREASE]
    assert balance(K.PUBLISHER_PENDING, publisher=pixelpush) == Decimal("-1.52")
    assert every_transaction_balances()


def test_recounting_an_unchanged_day_posts_nothing(banner, pixelpush):
    _clicks(banner, pixelpush, 3)
    _today()
    assert _today() == {"created": 0, "grown": 0}
    assert Transaction.objects.count() == 1


def test_impressions_pay_per_thousand_with_country_custom_payouts(banner, pixelpush):
    view = banner.goals.get(code="view")
    f.CustomPayoutFactory(offer=banner, publisher=pixelpush, goal=view, payout=Decimal("3"), countries=["US"])
    now = timezone.now()
    Impression.objects.bulk_create(
        [Impression(offer=banner, publisher=pixelpush, created_at=now, country="US") for _ in range(500)]
        + [Impression(offer=banner, publisher=pixelpush, created_at=now, country="FR") for _ in range(1000)]
    )
    _today()
    line = Commission.objects.get(kind="cpm")
    # 500/1000 x 3 + 1000/1000 x 1.10 = 2.60; revenue 1500/1000 x 2 = 3.00
    assert (line.quantity, line.payout, line.revenue) == (1500, Decimal("2.60"), Decimal("3.00"))
