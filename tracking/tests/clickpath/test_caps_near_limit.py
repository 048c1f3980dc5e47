"""Click caps on the staff console's "caps near their limit": read where the click path counts
them (Redis's counters, or the clicks table without Redis), never a second count of our own."""

from __future__ import annotations

from decimal import Decimal

from affiliates.models import Cap, OfferAccess
from affiliates.tests import factories as f
from tracking.portal.console_selectors import caps_near_limit


def test_a_click_cap_at_80_percent_is_near_its_limit_and_one_below_is_not(visit, drain, shoes, shoes_link):
    offer_cap = f.CapFactory(offer=shoes, metric=Cap.Metric.CLICKS, period=Cap.Period.DAY, limit=Decimal("5"))
    roomy = f.CapFactory(offer=shoes, metric=Cap.Metric.CLICKS, period=Cap.Period.MONTH, limit=Decimal("100"))
    for n in range(4):
        assert visit(shoes_link.token, ip=f"8.8.8.{n + 1}").status_code == 302
    drain()

    near = caps_near_limit()

    assert [(u.cap.pk, u.used, u.scope_key) for u in near] == [(offer_cap.pk, Decimal("4"), "offer")]
    assert roomy.pk not in {u.cap.pk for u in near}


def test_an_each_publisher_click_cap_is_read_per_publisher_by_name(visit, drain, shoes, shoes_link, rival):
    other = f.OfferAccessFactory(offer=shoes, publisher=rival, status=OfferAccess.Status.APPROVED)
    each = f.CapFactory(
        offer=shoes, metric=Cap.Metric.CLICKS, period=Cap.Period.DAY, scope=Cap.Scope.EACH_PUBLISHER, limit=3
    )
    for n in range(3):
        visit(shoes_link.token, ip=f"8.8.4.{n + 1}")
    visit(other.token, ip="8.8.4.9")
    drain()

    near = caps_near_limit(where=None)

    assert [(u.cap.pk, u.used, u.who) for u in near] == [(each.pk, Decimal("3"), shoes_link.publisher.name)]
