"""Rows the portal tests read: clicks, conversions, commissions and payout runs.

Built directly (not through the tracking and payouts services) because the portals only read
them; each helper writes the fields those pages show and nothing else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from django.utils import timezone

from affiliates.models import Advertiser, FxRate, Goal, OfferAccess, Publisher
from affiliates.tests import factories as f
from payouts.models import Commission, Payout, PayoutRun
from tracking.models import Click, Conversion, ConversionEvent


def priced_access_make(
    *, advertiser: Advertiser, publisher: Publisher, currency: str, name: str
) -> OfferAccess:
    """An offer of the advertiser's priced in ``currency`` (8 % of a sale to the publisher, 12 % to
    the network, one default ``sale`` goal), approved for the publisher."""
    offer = f.OfferFactory(advertiser=advertiser, name=name, currency=currency)
    f.GoalFactory(
        offer=offer,
        code="sale",
        payout_type=Goal.PayoutType.CPS,
        payout=Decimal("8"),
        revenue=Decimal("12"),
        is_default=True,
    )
    return f.OfferAccessFactory(offer=offer, publisher=publisher, status="approved")


def euro_rate_make() -> FxRate:
    """EUR->USD at 1.0850, in force since 2020."""
    return FxRate.objects.create(
        base="EUR", quote="USD", rate=Decimal("1.0850"), valid_from=datetime(2020, 1, 1, tzinfo=UTC)
    )


def euro_access_make(*, advertiser: Advertiser, publisher: Publisher) -> OfferAccess:
    """ "Acme Boots EU", priced in euros, with the EUR->USD rate: the reporting-currency pages
    total it beside dollar offers."""
    euro_rate_make()
    return priced_access_make(
        advertiser=advertiser, publisher=publisher, currency="EUR", name="Acme Boots EU"
    )


def conversion_make(
    *,
    click: Click,
    goal_code: str = "sale",
    status: str = "pending",
    amount: Decimal | None = Decimal("100.00"),
    txn_id: str = "",
    held: bool = False,
    at: datetime | None = None,
    with_commission: bool = True,
) -> Conversion:
    offer = click.offer
    goal = Goal.objects.get(offer=offer, code=goal_code)
    at = at or timezone.now()
    conversion = Conversion.objects.create(
        offer=offer,
        publisher=click.publisher,
        goal=goal,
        click=click,
        click_time=click.created_at,
        txn_id=txn_id,
        status=status,
        amount=amount if goal.payout_type == "cps" else None,
        currency=offer.currency,
        sub1=click.sub1,
        country=click.country or "US",
        held_for_review=held,
        fraud_flags=["datacenter_ip"] if held else [],
        created_at=at,
        trace={
            "attribution": {
                "model": "last_click",
                "by": "click_id",
                "click_id": click.id.hex,
                "publisher_id": click.publisher_id,
            },
            "goal": {"id": goal.pk, "code": goal.code, "payout_type": goal.payout_type},
            "price": {"source": f"goal:{goal.pk}"},
            "verdict": {"status": status, "reason": "", "held_for_review": held},
        },
    )
    ConversionEvent.objects.create(conversion=conversion, to_status=status, actor="postback", created_at=at)
    if with_commission:
        commission_for(conversion)
    return conversion


def commission_for(conversion: Conversion) -> Commission:
    goal = conversion.goal
    assert goal is not None
    assert conversion.offer is not None
    assert conversion.publisher is not None
    if goal.payout_type == "cps":
        base = conversion.amount or Decimal("0")
        payout, revenue = base * goal.payout / 100, base * goal.revenue / 100
    else:
        payout, revenue = goal.payout, goal.revenue
    return Commission.objects.create(
        source_key=f"conversion:{conversion.pk}",
        kind=Commission.Kind.CONVERSION,
        conversion=conversion,
        advertiser=conversion.offer.advertiser,
        offer=conversion.offer,
        publisher=conversion.publisher,
        goal=goal,
        day=conversion.created_at.date(),
        status=conversion.status,
        currency=conversion.offer.currency,
        revenue=revenue.quantize(Decimal("0.01")),
        payout=payout.quantize(Decimal("0.01")),
        sale_amount=conversion.amount,
        created_at=conversion.created_at,
    )


def payout_run_make(
    *, period: date, publisher: Publisher, amount: Decimal, status: str = "draft"
) -> PayoutRun:
    run = PayoutRun.objects.create(period=period, status=status, progress_done=1, progress_total=1)
    Payout.objects.create(
        run=run,
        publisher=publisher,
        period=period,
        currency="USD",
        amount=amount,
        status="paid" if status == "paid" else "draft",
        method=publisher.payout_method,
        details={"account": "pia@paypal.example"},
    )
    return run
