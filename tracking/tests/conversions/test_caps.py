"""Exact conversion caps: count, payout and revenue; offer-wide, per publisher, one publisher."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Cap
from affiliates.tests import factories as f
from tracking.conversions.caps import period_start
from tracking.models import CapCounter
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(edge: Any) -> Any:
    """Postbacks (and the pixel behind them) through the edge, as the app server serves them."""
    return edge


def _leads(client, offer, publisher, n: int) -> list[dict]:
    return [
        postback(client, click_id=click_make(offer, publisher).id.hex, goal="lead").json() for _ in range(n)
    ]


def test_a_daily_conversion_cap_accepts_exactly_its_limit(client, shoes, pixelpush, shoes_link) -> None:
    f.CapFactory(offer=shoes, metric=Cap.Metric.CONVERSIONS, period=Cap.Period.DAY, limit=Decimal("2"))
    bodies = _leads(client, shoes, pixelpush, 3)
    assert [b["result"] for b in bodies] == ["accepted", "accepted", "rejected"]
    assert bodies[2]["reason"] == "cap_reached"
    assert CapCounter.objects.get().used == Decimal("2")


def test_a_payout_cap_counts_rounded_payouts(client, shoes, pixelpush, shoes_link) -> None:
    # lead pays 1.50: room for two in 3.00, not three
    f.CapFactory(offer=shoes, metric=Cap.Metric.PAYOUT, period=Cap.Period.MONTH, limit=Decimal("3.00"))
    assert [b["result"] for b in _leads(client, shoes, pixelpush, 3)] == ["accepted", "accepted", "rejected"]


def test_a_revenue_cap_on_sales_uses_the_percentage(client, shoes, pixelpush, shoes_link) -> None:
    f.CapFactory(offer=shoes, metric=Cap.Metric.REVENUE, period=Cap.Period.WEEK, limit=Decimal("20.00"))
    ok = postback(client, click_id=click_make(shoes, pixelpush).id.hex, amount="100").json()  # 12.00
    over = postback(client, click_id=click_make(shoes, pixelpush).id.hex, amount="100").json()  # 24.00 > 20
    small = postback(client, click_id=click_make(shoes, pixelpush).id.hex, amount="50").json()  # 18.00
    assert [ok["result"], over["result"], small["result"]] == ["accepted", "rejected", "accepted"]


def test_an_each_publisher_cap_counts_publishers_apart(client, shoes, pixelpush, rival, shoes_link) -> None:
    f.OfferAccessFactory(offer=shoes, publisher=rival)
    f.CapFactory(
        offer=shoes, metric=Cap.Metric.CONVERSIONS, scope=Cap.Scope.EACH_PUBLISHER, limit=Decimal("1")
    )
    assert [b["result"] for b in _leads(client, shoes, pixelpush, 2)] == ["accepted", "rejected"]
    assert [b["result"] for b in _leads(client, shoes, rival, 2)] == ["accepted", "rejected"]


def test_a_cap_for_one_publisher_replaces_the_each_publisher_cap(client, shoes, pixelpush, rival, shoes_link):
    f.OfferAccessFactory(offer=shoes, publisher=rival)
    f.CapFactory(
        offer=shoes, metric=Cap.Metric.CONVERSIONS, scope=Cap.Scope.EACH_PUBLISHER, limit=Decimal("1")
    )
    f.CapFactory(
        offer=shoes,
        metric=Cap.Metric.CONVERSIONS,
        scope=Cap.Scope.EACH_PUBLISHER,
        publisher=pixelpush,
        limit=Decimal("3"),
    )
    assert [b["result"] for b in _leads(client, shoes, pixelpush, 4)] == ["accepted"] * 3 + ["rejected"]
    assert [b["result"] for b in _leads(client, shoes, rival, 2)] == ["accepted", "rejected"]


def test_a_refused_cap_gives_back_the_room_other_caps_granted(client, shoes, pixelpush, shoes_link) -> None:
    wide = f.CapFactory(offer=shoes, metric=Cap.Metric.CONVERSIONS, limit=Decimal("10"))
    f.CapFactory(offer=shoes, metric=Cap.Metric.PAYOUT, period=Cap.Period.DAY, limit=Decimal("1.00"))
    body = _leads(client, shoes, pixelpush, 1)[0]
    assert body["reason"] == "cap_reached"
    assert not CapCounter.objects.filter(cap=wide, used__gt=0).exists()


def test_the_trace_lists_the_caps_checked(client, shoes, pixelpush, shoes_link) -> None:
    from tracking.models import Conversion

    cap = f.CapFactory(offer=shoes, metric=Cap.Metric.CONVERSIONS, limit=Decimal("5"))
    body = _leads(client, shoes, pixelpush, 1)[0]
    [check] = Conversion.objects.get(pk=body["conversion_id"]).trace["caps"]
    assert (check["cap_id"], check["scope"], Decimal(check["used_after"]), check["ok"]) == (
        cap.id,
        "offer",
        1,
        True,
    )


def test_periods_start_on_the_utc_day_monday_and_first_of_month() -> None:
    at = datetime(2026, 3, 19, 23, 59, tzinfo=UTC)  # a Thursday
    assert period_start("day", at).isoformat() == "2026-03-19"
    assert period_start("week", at).isoformat() == "2026-03-16"
    assert period_start("month", at).isoformat() == "2026-03-01"
