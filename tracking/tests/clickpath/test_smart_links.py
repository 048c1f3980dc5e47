"""Smart links on the click path: one /c/{token} that routes each visitor to one of several
paths, with targeting, caps, pauses and approvals skipped with reasons, a catch-all, sticky
visitors and the contract's macros and click ids (README "Smart links")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from affiliates.models import Offer, OfferAccess
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from tracking.models import Click, Conversion, Impression, SmartLink, SmartPath
from tracking.smartlinks.services import PathSpec, smart_link_create
from tracking.tests.clickpath.conftest import IPHONE_UA
from tracking.tests.conversions.conftest import postback

pytestmark = pytest.mark.django_db(transaction=True)
STAFF = Actor(role=Role.STAFF)


def offer_for(acme: Any, pixelpush: Any, name: str, *, approved: bool = True, **fields: Any) -> Offer:
    offer = f.OfferFactory(
        advertiser=acme, landing_url=f"https://{name}.example.com/?c={{click_id}}&s={{sub1}}", **fields
    )
    f.GoalFactory(offer=offer, code="lead", payout_type="cpl", payout="2.00", revenue="3.00", is_default=True)
    status = OfferAccess.Status.APPROVED if approved else OfferAccess.Status.PENDING
    f.OfferAccessFactory(offer=offer, publisher=pixelpush, status=status)
    return offer


def smart_link(pixelpush: Any, *specs: PathSpec, catch_all: Offer, **options: Any) -> SmartLink:
    paths = [*specs, PathSpec(offer=catch_all, is_catch_all=True, label="catch-all")]
    return smart_link_create(actor=STAFF, publisher=pixelpush, name="Summer", paths=paths, **options)


def host(response: Any) -> str:
    return str(response["Location"].split("/")[2])


def path_of(smart: SmartLink, offer: Offer) -> SmartPath:
    return smart.paths.get(offer=offer)


@pytest.fixture
def offers(acme: Any, pixelpush: Any) -> dict[str, Offer]:
    return {name: offer_for(acme, pixelpush, name) for name in ("a", "b", "rest")}


def test_a_click_goes_to_a_path_with_its_macros_and_is_stored_with_the_path(
    visit, drain, edge, pixelpush, offers
):
    link = smart_link(pixelpush, PathSpec(offer=offers["a"], weight=1), catch_all=offers["rest"])
    response = visit(link.token, sub1="fb-7")
    assert response.status_code == 302
    assert host(response) == "a.example.com"
    drain()
    click = Click.objects.get()
    assert response["Location"] == f"https://a.example.com/?c={click.id.hex}&s=fb-7"
    assert (click.offer_id, click.publisher_id, click.reason) == (offers["a"].pk, pixelpush.pk, "")
    assert click.smart_path_id == path_of(link, offers["a"]).pk
    assert edge.cookies[f"affc_{offers['a'].pk}"].value == click.id.hex  # pixel attribution


def test_paths_that_cannot_take_the_visitor_are_skipped_with_their_reasons(
    visit, drain, acme, pixelpush, offers
):
    paused_offer = offer_for(acme, pixelpush, "paused", status=Offer.Status.PAUSED)
    unapproved = offer_for(acme, pixelpush, "pending", approved=False)
    off_hours = [h for h in range(24) if h != datetime.now(UTC).hour]
    link = smart_link(
        pixelpush,
        PathSpec(offer=offers["a"], countries=["DE"]),  # the visitor is in the US
        PathSpec(offer=offers["b"], devices=["mobile"]),  # ... on a desktop
        PathSpec(offer=paused_offer),
        PathSpec(offer=unapproved),
        PathSpec(offer=offers["rest"], status=SmartPath.Status.PAUSED, label="paused path"),
        PathSpec(offer=offers["rest"], hours=off_hours, label="night only"),
        catch_all=offers["rest"],
    )
    response = visit(link.token)
    assert host(response) == "rest.example.com"
    drain()
    click = Click.objects.get()
    ids = {p.label or p.offer.name: p.pk for p in link.paths.all()}
    skips = dict(part.split(":") for part in click.path_skips.split())
    assert skips == {
        str(ids[offers["a"].name]): "geo_mismatch",
        str(ids[offers["b"].name]): "device_mismatch",
        str(ids[paused_offer.name]): "offer_paused",
        str(ids[unapproved.name]): "not_approved",
        str(ids["paused path"]): "path_paused",
        str(ids["night only"]): "time_mismatch",
    }
    assert click.smart_path_id == ids["catch-all"]
    assert click.reason == ""  # the catch-all took it
    # The mobile visitor gets the path whose targeting wants it.
    assert host(visit(link.token, ua=IPHONE_UA)) == "b.example.com"


def test_a_full_path_sends_the_click_to_the_catch_all_and_is_skipped_afterwards(
    visit, drain, pixelpush, offers
):
    link = smart_link(
        pixelpush,
        PathSpec(offer=offers["a"], weight=1, daily_cap=1),
        PathSpec(offer=offers["b"], weight=0),
        catch_all=offers["rest"],
    )
    a_path = path_of(link, offers["a"])
    hosts = [host(visit(link.token, ip=f"8.8.4.{i}")) for i in range(3)]
    assert hosts == ["a.example.com", "rest.example.com", "rest.example.com"]
    drain()
    # Ids are UUIDv7: clicks within one millisecond are not ordered by id, so each is found by
    # what it is, not by its place.
    clicks = list(Click.objects.all())
    assert len(clicks) == 3
    (first,) = [c for c in clicks if c.smart_path_id == a_path.pk and c.reason == ""]
    (second,) = [c for c in clicks if c.reason == "cap_reached"]
    (third,) = [c for c in clicks if c not in (first, second)]
    assert (first.smart_path_id, first.reason) == (a_path.pk, "")
    # The click that found the cap full: refused by the path's cap, sent to the catch-all.
    assert (second.smart_path_id, second.reason, second.fallback_offer_id) == (
        a_path.pk,
        "cap_reached",
        offers["rest"].pk,
    )
    # Later clicks skip the full path before the draw.
    assert f"{a_path.pk}:cap_reached" in third.path_skips
    assert third.reason == ""
    assert third.smart_path_id == path_of(link, offers["rest"]).pk


def test_a_returning_visitor_keeps_their_path_by_cookie_and_without_one(visit, edge, pixelpush, offers):
    link = smart_link(
        pixelpush,
        PathSpec(offer=offers["a"]),
        PathSpec(offer=offers["b"]),
        catch_all=offers["rest"],
        sticky_hours=24,
    )
    first = visit(link.token)
    bound = edge.cookies[f"afsl_{link.pk}"]
    assert bound["max-age"] == "86400"
    assert bound.value == str(path_of(link, offers["a" if host(first) == "a.example.com" else "b"]).pk)
    assert {host(visit(link.token)) for _ in range(8)} == {host(first)}
    edge.cookies.clear()  # no cookie: the visitor's IP and user agent bind them
    by_visitor = {host(visit(link.token, ip="8.8.4.4")) for _ in range(8)}
    assert len(by_visitor) == 1
    # Different visitors are spread over both paths.
    spread = set()
    for i in range(40):
        edge.cookies.clear()
        spread.add(host(visit(link.token, ip=f"8.8.{i}.1")))
    assert spread == {"a.example.com", "b.example.com"}


def test_a_path_the_visitor_was_bound_to_is_left_when_it_can_no_longer_take_them(visit, pixelpush, offers):
    link = smart_link(
        pixelpush, PathSpec(offer=offers["a"]), PathSpec(offer=offers["b"]), catch_all=offers["rest"]
    )
    first = host(visit(link.token))
    bound = offers["a"] if first == "a.example.com" else offers["b"]
    SmartPath.objects.get(smart_link=link, offer=bound).save()  # evicts the snapshot
    path = SmartPath.objects.get(smart_link=link, offer=bound)
    path.status = SmartPath.Status.PAUSED
    path.save()
    assert host(visit(link.token)) not in (first, "rest.example.com")


def test_a_conversion_on_a_smart_link_click_belongs_to_the_paths_offer(visit, drain, edge, pixelpush, offers):
    link = smart_link(pixelpush, PathSpec(offer=offers["b"], weight=1), catch_all=offers["rest"])
    location = visit(link.token)["Location"]
    click_id = location.split("c=")[1].split("&")[0]
    # Before the consumer wrote the click (Redis: its pending copy carries the path), then after.
    body = postback(edge, click_id=click_id, goal="lead", txn_id="SL-1").json()
    assert body["result"] == "accepted", body
    drain()
    conversion = Conversion.objects.get()
    assert (conversion.offer_id, conversion.publisher_id) == (offers["b"].pk, pixelpush.pk)
    assert conversion.click.smart_path_id == path_of(link, offers["b"]).pk


def test_an_unknown_smart_token_and_a_smart_impression(visit, drain, pixelpush, offers):
    link = smart_link(pixelpush, PathSpec(offer=offers["a"], weight=1), catch_all=offers["rest"])
    assert visit("no-such-token-123").status_code == 404
    assert visit(link.token, path="i").status_code == 200
    drain()
    assert Impression.objects.get().offer_id == offers["a"].pk  # counted for the path a click gets
