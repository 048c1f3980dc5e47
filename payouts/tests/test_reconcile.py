from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from affiliates.models import FxRate
from affiliates.tests import factories as f
from payouts.models import Account, Commission, Transaction
from payouts.reconcile import conversions_reconcile
from payouts.tests.helpers import (
    balance,
    convert,
    every_transaction_balances,
    ledger_snapshot,
    queued,
    requeue_all,
)
from tracking.models import Conversion

K = Account.Kind
pytestmark = pytest.mark.django_db


def test_it_turns_a_cps_sale_into_a_commission_with_balanced_entries(shoes, pixelpush, acme):
    conversion = convert(shoes, pixelpush, amount="123.45")
    result = conversions_reconcile()
    c = Commission.objects.get(conversion=conversion)
    # 8% and 12% of 123.45 = 9.876 and 14.814, rounded once, half up, to cents.
    assert (c.payout, c.revenue) == (Decimal("9.88"), Decimal("14.81"))
    assert c.sale_amount == Decimal("123.45")
    assert c.price_source.startswith("goal:")
    assert result.created == 1
    assert balance(K.ADVERTISER_PENDING, advertiser=acme) == Decimal("14.81")
    assert balance(K.PUBLISHER_PENDING, publisher=pixelpush) == Decimal("-9.88")
    assert balance(K.NETWORK_PENDING_MARGIN) == Decimal("-4.93")
    assert every_transaction_balances()
    assert conversion.pk not in queued()


def test_it_holds_for_the_offers_hold_days_and_copies_the_review_flag(shoes, pixelpush):
    shoes.hold_days = 30
    shoes.save()
    conversion = convert(shoes, pixelpush, goal="lead", held=True)
    conversions_reconcile()
    c = Commission.objects.get(conversion=conversion)
    assert c.hold_until == conversion.created_at + timedelta(days=30)
    assert c.held_for_review is True
    assert (c.payout, c.revenue) == (Decimal("1.50"), Decimal("2.00"))


def test_it_prefers_a_country_custom_payout_for_the_publisher(shoes, pixelpush):
    lead = shoes.goals.get(code="lead")
    f.CustomPayoutFactory(offer=shoes, publisher=pixelpush, goal=lead, payout=Decimal("3"), countries=["DE"])
    german = convert(shoes, pixelpush, goal="lead", country="DE")
    french = convert(shoes, pixelpush, goal="lead", country="FR")
    conversions_reconcile()
    assert Commission.objects.get(conversion=german).payout == Decimal("3.00")
    assert Commission.objects.get(conversion=french).payout == Decimal("1.50")
    assert Commission.objects.get(conversion=german).price_source.startswith("custom_payout:")


def test_a_custom_payout_above_a_sale_amount_prices_the_commission_per_sale(shoes, pixelpush):
    sale = shoes.goals.get(code="sale")
    tier = f.CustomPayoutFactory(
        offer=shoes, publisher=pixelpush, goal=sale, payout=Decimal("10"), min_sale_amount=Decimal("500")
    )
    top = f.CustomPayoutFactory(
        offer=shoes,
        publisher=pixelpush,
        goal=sale,
        payout=Decimal("11"),
        revenue=Decimal("13"),
        min_sale_amount=Decimal("1000"),
    )
    FxRate.objects.create(
        base="EUR", quote="USD", rate=Decimal("2"), valid_from=timezone.now() - timedelta(days=1)
    )
    small, mid, big = (convert(shoes, pixelpush, amount=a) for a in ("499.99", "500", "1000"))
    euros = convert(shoes, pixelpush, amount="300", currency="EUR")  # 600 USD: the threshold is in USD
    conversions_reconcile()

    def priced(conversion):
        c = Commission.objects.get(conversion=conversion)
        return c.price_source, c.payout, c.revenue

    assert priced(small) == (f"goal:{sale.id}", Decimal("40.00"), Decimal("60.00"))
    assert priced(mid) == (f"custom_payout:{tier.id}", Decimal("50.00"), Decimal("60.00"))
    assert priced(big) == (f"custom_payout:{top.id}", Decimal("110.00"), Decimal("130.00"))
    assert priced(euros) == (f"custom_payout:{tier.id}", Decimal("60.00"), Decimal("72.00"))
    assert every_transaction_balances()


def test_it_converts_a_foreign_sale_at_the_rate_in_force_at_conversion_time(shoes, pixelpush):
    now = timezone.now()
    FxRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.10"), valid_from=now - timedelta(days=10))
    FxRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.20"), valid_from=now - timedelta(days=1))
    old = convert(shoes, pixelpush, amount="100", currency="EUR", at=now - timedelta(days=5))
    new = convert(shoes, pixelpush, amount="100", currency="EUR", at=now)
    conversions_reconcile()
    c_old, c_new = Commission.objects.get(conversion=old), Commission.objects.get(conversion=new)
    assert (c_old.fx_rate, c_old.sale_amount, c_old.payout) == (
        Decimal("1.1"),
        Decimal("110"),
        Decimal("8.80"),
    )
    assert (c_new.fx_rate, c_new.payout, c_new.revenue) == (Decimal("1.2"), Decimal("9.60"), Decimal("14.40"))
    assert (c_new.original_amount, c_new.original_currency) == (Decimal("100"), "EUR")


def test_it_waits_for_a_missing_fx_rate_without_blocking_the_rest(shoes, pixelpush):
    stuck = convert(shoes, pixelpush, amount="100", currency="GBP")
    fine = convert(shoes, pixelpush, amount="100")
    result = conversions_reconcile()
    assert result.skipped == 1
    assert result.created == 1
    assert not Commission.objects.filter(conversion=stuck).exists()
    assert queued() == {stuck.pk}
    assert Commission.objects.filter(conversion=fine).exists()
    FxRate.objects.create(base="GBP", quote="USD", rate=Decimal("1.25"), valid_from=stuck.created_at)
    conversions_reconcile()
    assert Commission.objects.get(conversion=stuck).payout == Decimal("10.00")


def test_it_earns_nothing_for_rejected_conversions_but_marks_them_done(shoes, pixelpush):
    conversion = convert(shoes, pixelpush, status="rejected")
    conversions_reconcile()
    assert not Commission.objects.exists()
    assert conversion.pk not in queued()


def test_running_twice_changes_nothing(shoes, pixelpush):
    for i in range(5):
        convert(shoes, pixelpush, amount=f"{10 + i}.99")
    conversions_reconcile()
    before = ledger_snapshot()
    requeue_all()
    conversions_reconcile()
    assert ledger_snapshot() == before
    assert Transaction.objects.count() == 5


def test_a_conversion_reversed_later_reverses_its_pending_commission(shoes, pixelpush, acme):
    conversion = convert(shoes, pixelpush, goal="lead")
    conversions_reconcile()
    # What the conversions side does when the advertiser reverses it (its trigger queues it again):
    Conversion.objects.filter(pk=conversion.pk).update(status="reversed")
    assert queued() == {conversion.pk}
    conversions_reconcile()
    c = Commission.objects.get(conversion=conversion)
    assert c.status == "reversed"
    assert c.revision == 2
    assert balance(K.PUBLISHER_PENDING, publisher=pixelpush) == 0
    assert balance(K.ADVERTISER_PENDING, advertiser=acme) == 0
    assert c.transactions.filter(kind=Transaction.Kind.REVERSAL).count() == 1


def test_a_conversion_approved_later_moves_money_to_the_approved_accounts(shoes, pixelpush, acme):
    conversion = convert(shoes, pixelpush, goal="lead")
    conversions_reconcile()
    Conversion.objects.filter(pk=conversion.pk).update(status="approved")
    conversions_reconcile()
    assert balance(K.PUBLISHER_PENDING, publisher=pixelpush) == 0
    assert balance(K.PUBLISHER_PAYABLE, publisher=pixelpush) == Decimal("-1.50")
    assert balance(K.ADVERTISER_RECEIVABLE, advertiser=acme) == Decimal("2.00")
    assert balance(K.NETWORK_MARGIN) == Decimal("-0.50")
