"""GET /api/v1/conversions/: scoped per tenant, filtered, with the trace and events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from affiliates.tests import factories as f
from tracking.models import Conversion
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(edge, shoes, pixelpush, rival, shoes_link, globex):
    """pixelpush converts twice on acme's shoes, rival once on globex's offer."""
    a = postback(edge, click_id=click_make(shoes, pixelpush).id.hex, amount="10", txn_id="A1").json()
    b = postback(edge, click_id=click_make(shoes, pixelpush).id.hex, goal="lead", txn_id="A2").json()
    postback(edge, txn_id="A1", status="reversed")
    token = globex.rotate_postback_token()
    globex.save()
    other = f.OfferFactory(advertiser=globex)
    f.GoalFactory(offer=other, code="signup", is_default=True)
    f.OfferAccessFactory(offer=other, publisher=rival)
    g = postback(edge, click_id=click_make(other, rival).id.hex, token=token).json()
    return {"a": a["conversion_id"], "b": b["conversion_id"], "g": g["conversion_id"], "other": other}


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_staff_see_every_conversion(api_as, nadia, network) -> None:
    assert _ids(api_as(nadia).get("/api/v1/conversions/")) == {network["a"], network["b"], network["g"]}


def test_an_advertiser_sees_only_its_offers_conversions(api_as, ada, gus, network) -> None:
    assert _ids(api_as(ada).get("/api/v1/conversions/")) == {network["a"], network["b"]}
    assert _ids(api_as(gus).get("/api/v1/conversions/")) == {network["g"]}


def test_a_publisher_sees_only_its_own(api_as, pia, rex, network) -> None:
    assert _ids(api_as(pia).get("/api/v1/conversions/")) == {network["a"], network["b"]}
    assert _ids(api_as(rex).get("/api/v1/conversions/")) == {network["g"]}


def test_another_tenants_conversion_is_a_404(api_as, ada, pia, rex, network) -> None:
    assert api_as(ada).get(f"/api/v1/conversions/{network['g']}/").status_code == 404
    assert api_as(rex).get(f"/api/v1/conversions/{network['a']}/").status_code == 404
    assert api_as(pia).get(f"/api/v1/conversions/{network['g']}/").status_code == 404


def test_anonymous_callers_are_refused(client, network) -> None:
    assert client.get("/api/v1/conversions/").status_code in (401, 403)


def test_the_list_filters_by_offer_goal_status_and_dates(api_as, nadia, shoes, network) -> None:
    api = api_as(nadia)
    assert _ids(api.get("/api/v1/conversions/", {"offer": shoes.id})) == {network["a"], network["b"]}
    assert _ids(api.get("/api/v1/conversions/", {"goal_code": "lead"})) == {network["b"]}
    assert _ids(api.get("/api/v1/conversions/", {"status": "reversed"})) == {network["a"]}
    assert _ids(api.get("/api/v1/conversions/", {"held_for_review": "true"})) == set()
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert _ids(api.get("/api/v1/conversions/", {"created_after": future})) == set()
    assert len(_ids(api.get("/api/v1/conversions/", {"created_before": future}))) == 3


def test_the_detail_carries_the_trace_and_the_events(api_as, ada, network) -> None:
    body = api_as(ada).get(f"/api/v1/conversions/{network['a']}/").json()
    assert body["status"] == "reversed"
    assert body["trace"]["attribution"]["model"] == "last_click"
    assert body["trace"]["price"]["revenue"] == "1.20"
    assert "payout" not in body["trace"]["price"]  # the publisher's payout is not the advertiser's
    assert body["trace"]["goal"]["code"] == "sale"
    assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("", "pending"),  # its creation
        ("pending", "reversed"),
    ]


def test_an_advertiser_also_sees_its_unattributable_postbacks(edge, api_as, ada, acme) -> None:
    postback(edge, click_id="f" * 32, amount="5")
    [row] = api_as(ada).get("/api/v1/conversions/").json()["results"]
    assert (row["status"], row["reason"], row["offer"]) == ("rejected", "unknown_click", None)


def test_a_publisher_does_not_see_other_clicks_in_the_trace(
    edge, api_as, pia, shoes, pixelpush, rival, shoes_link
):
    from affiliates.models import Offer

    Offer.objects.filter(pk=shoes.pk).update(attribution_model=Offer.Attribution.FIRST_CLICK)
    f.OfferAccessFactory(offer=shoes, publisher=rival)
    click_make(shoes, pixelpush, ago=timedelta(days=2))
    later = click_make(shoes, rival, ago=timedelta(hours=1))
    conv_id = postback(edge, click_id=later.id.hex, goal="lead").json()["conversion_id"]
    assert Conversion.objects.get(pk=conv_id).publisher_id == pixelpush.id
    trace = api_as(pia).get(f"/api/v1/conversions/{conv_id}/").json()["trace"]
    assert trace["attribution"]["alternatives"] == []
    assert "sender_ip" not in trace["request"]
