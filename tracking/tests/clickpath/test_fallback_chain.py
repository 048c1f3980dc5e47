"""Fallback offers apply their own status, targeting and the publisher's standing; when one
cannot take the click the chain goes on; a conversion on fallback traffic is attributed and paid
(README: "Fallback offers")."""

from __future__ import annotations

from typing import Any

import pytest

from affiliates.models import Offer, OfferAccess
from affiliates.tests import factories as f
from tracking.models import Click, Conversion
from tracking.tests.conversions.conftest import postback

pytestmark = pytest.mark.django_db(transaction=True)


def _chain(acme: Any, shoes: Any, *offers: Offer) -> None:
    """shoes (paused: every click is refused) -> offers[0] -> offers[1] -> ..."""
    previous = shoes
    for offer in offers:
        Offer.objects.filter(pk=previous.pk).update(fallback_offer=offer)
        previous = offer
    Offer.objects.filter(pk=shoes.pk).update(
        status=Offer.Status.PAUSED, fallback_url="https://x.example.com/"
    )


def _offer(acme: Any, name: str, **fields: Any) -> Offer:
    offer = f.OfferFactory(
        advertiser=acme, landing_url=f"https://{name}.example.com/?c={{click_id}}", **fields
    )
    f.GoalFactory(offer=offer, code="lead", payout_type="cpl", payout="2.00", revenue="3.00", is_default=True)
    return offer


def test_a_fallback_whose_targeting_refuses_the_visitor_passes_it_on(visit, drain, acme, shoes, shoes_link):
    de_only = _offer(acme, "de", target_countries=["DE"])  # the visitor is from the US
    anyone = _offer(acme, "anyone")
    _chain(acme, shoes, de_only, anyone)
    response = visit(shoes_link.token)
    assert response["Location"].startswith("https://anyone.example.com/")
    drain()
    assert Click.objects.get().fallback_offer_id == anyone.pk


def test_a_paused_fallback_and_one_that_rejected_the_publisher_are_skipped(
    visit, drain, acme, shoes, shoes_link, pixelpush
):
    paused = _offer(acme, "paused", status=Offer.Status.PAUSED)
    refused = _offer(acme, "refused")
    f.OfferAccessFactory(offer=refused, publisher=pixelpush, status=OfferAccess.Status.REJECTED)
    last = _offer(acme, "last")
    _chain(acme, shoes, paused, refused, last)
    assert visit(shoes_link.token)["Location"].startswith("https://last.example.com/")


def test_a_chain_that_loops_or_runs_out_ends_at_the_fallback_url(visit, drain, acme, shoes, shoes_link):
    a = _offer(acme, "a", target_countries=["DE"])
    b = _offer(acme, "b", target_countries=["FR"])
    _chain(acme, shoes, a, b)
    Offer.objects.filter(pk=b.pk).update(fallback_offer=a)  # a loop
    assert visit(shoes_link.token)["Location"] == "https://x.example.com/"


def test_a_conversion_on_fallback_traffic_is_attributed_and_earns(
    visit, drain, edge, acme, shoes, shoes_link
):
    approval_only = _offer(acme, "approval", visibility=Offer.Visibility.APPROVAL)  # no access row
    _chain(acme, shoes, approval_only)
    visit(shoes_link.token)
    drain()
    click = Click.objects.get()
    body = postback(edge, click_id=click.id.hex, goal="lead").json()
    assert (body["result"], body["status"]) == ("accepted", "pending"), body
    conversion = Conversion.objects.get()
    assert (conversion.offer_id, conversion.publisher_id) == (approval_only.pk, shoes_link.publisher_id)
    assert conversion.trace["price"]["payout"] == "2.00"
    assert "invalid_click" not in conversion.fraud_flags


def test_fallback_traffic_of_a_publisher_not_approved_on_the_link_earns_nothing_and_says_why(
    visit, drain, edge, acme, shoes, shoes_link
):
    open_offer = _offer(acme, "open")
    Offer.objects.filter(pk=shoes.pk).update(fallback_offer=open_offer, visibility=Offer.Visibility.APPROVAL)
    OfferAccess.objects.filter(pk=shoes_link.pk).update(status=OfferAccess.Status.PENDING)
    Offer.objects.filter(pk=open_offer.pk).update(visibility=Offer.Visibility.APPROVAL)
    visit(shoes_link.token)
    drain()
    click = Click.objects.get()
    assert (click.reason, click.fallback_offer_id) == ("not_approved", open_offer.pk)
    body = postback(edge, click_id=click.id.hex, goal="lead").json()
    assert (body["result"], body["reason"]) == ("rejected", "not_approved")
    detail = Conversion.objects.get().trace["rejection"]["detail"]
    assert detail == "fallback traffic of a click refused as not_approved earns nothing (access is missing)"
