"""One role-aware rendering of a conversion's trace, in the API and on the portal's page.

The conversion below fills every part of the trace that can leak: first-click attribution moved
it from rival's click to pixelpush's (rival's click is an alternative), a payout cap and a
revenue cap counted it, a fraud rule quoted the visitor's user agent, and the postback's sender
address was recorded.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from affiliates.models import Cap, Offer
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from tests.portal_data import commission_for
from tracking.conversions.trace_view import trace_for
from tracking.models import Conversion
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import click_make

BOT_UA = "curl/8.4.0 secret-visitor-agent"


@pytest.fixture
def traced(edge, shoes, pixelpush, rival, shoes_link) -> dict[str, Any]:
    Offer.objects.filter(pk=shoes.pk).update(attribution_model=Offer.Attribution.FIRST_CLICK)
    f.OfferAccessFactory(offer=shoes, publisher=rival)
    f.CapFactory(offer=shoes, metric=Cap.Metric.PAYOUT, limit=Decimal("1000"))
    f.CapFactory(offer=shoes, metric=Cap.Metric.REVENUE, limit=Decimal("1000"))
    own = click_make(shoes, pixelpush, ago=timedelta(days=2), user_agent=BOT_UA)
    theirs = click_make(shoes, rival, ago=timedelta(hours=1), user_agent=BOT_UA)
    body = postback(edge, click_id=theirs.id.hex, amount="123.45", txn_id="T-1").json()
    conversion = Conversion.objects.get(pk=body["conversion_id"])
    assert conversion.publisher_id == pixelpush.id  # first click wins
    commission_for(conversion)
    trace = conversion.trace
    # The stored trace holds every secret this test looks for.
    assert trace["price"]["payout"] == "9.88"
    assert trace["price"]["revenue"] == "14.81"
    assert trace["request"]["sender_ip"]
    assert [a["click_id"] for a in trace["attribution"]["alternatives"]] == [theirs.id.hex]
    assert {c["metric"] for c in trace["caps"]} == {"payout", "revenue"}
    assert any(BOT_UA in r["reason"] for r in trace["rules"])
    return {"id": conversion.pk, "own": own, "theirs": theirs, "trace": trace}


def _api_trace(api_as: Any, user: Any, conversion_id: int) -> dict[str, Any]:
    response = api_as(user).get(f"/api/v1/conversions/{conversion_id}/")
    assert response.status_code == 200, response.content
    trace: dict[str, Any] = response.json()["trace"]
    return trace


def _page(user: Any, conversion_id: int) -> str:
    client = Client()
    sign_in(client, user)
    response = client.get(f"/conversions/{conversion_id}/")
    assert response.status_code == 200
    return response.content.decode()


def _caps(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["metric"]: c for c in trace["caps"]}


def test_a_publisher_sees_its_payout_and_its_own_clicks_only(api_as, pia, rival, traced) -> None:
    trace = _api_trace(api_as, pia, traced["id"])
    assert trace["price"]["payout"] == "9.88"
    assert Decimal(trace["price"]["payout_rate"]) == 8
    assert not {"revenue", "revenue_rate", "source"} & trace["price"].keys()
    assert trace["attribution"]["click_id"] == traced["own"].id.hex
    assert trace["attribution"]["alternatives"] == []  # rival's click is not pixelpush's to see
    assert not {"sender_ip", "auth"} & trace["request"].keys()
    caps = _caps(trace)
    assert "amount" in caps["payout"]
    assert "used_after" in caps["payout"]
    assert not {"amount", "used_after"} & caps["revenue"].keys()
    assert {r["rule"] for r in trace["rules"]} == {"bot_user_agent"}
    assert all("reason" not in r for r in trace["rules"])
    text = json.dumps(trace)
    for secret in ("14.81", traced["theirs"].id.hex, BOT_UA, traced["trace"]["request"]["sender_ip"]):
        assert secret not in text
    assert f'"publisher_id": {rival.id}' not in text


def test_an_advertiser_sees_revenue_and_its_offers_clicks_but_not_the_payout_or_sender(
    api_as, ada, traced
) -> None:
    trace = _api_trace(api_as, ada, traced["id"])
    assert trace["price"]["revenue"] == "14.81"
    assert Decimal(trace["price"]["revenue_rate"]) == 12
    assert not {"payout", "payout_rate", "source"} & trace["price"].keys()
    assert [a["click_id"] for a in trace["attribution"]["alternatives"]] == [traced["theirs"].id.hex]
    assert "sender_ip" not in trace["request"]
    assert trace["request"]["auth"] == "token"
    caps = _caps(trace)
    assert not {"amount", "used_after"} & caps["payout"].keys()
    assert caps["revenue"]["amount"] == "14.81"
    assert any(BOT_UA in r["reason"] for r in trace["rules"])
    assert "9.88" not in json.dumps(trace)


def test_staff_see_the_trace_as_stored(api_as, nadia, traced) -> None:
    assert _api_trace(api_as, nadia, traced["id"]) == json.loads(json.dumps(traced["trace"]))


def test_the_portal_page_renders_the_same_narrowed_trace(pia, ada, nadia, traced) -> None:
    sender = traced["trace"]["request"]["sender_ip"]
    pub = _page(pia, traced["id"])
    assert "9.88" in pub
    for secret in ("14.81", traced["theirs"].id.hex, "secret-visitor-agent", sender, "sender_ip"):
        assert secret not in pub
    adv = _page(ada, traced["id"])
    assert "14.81" in adv
    assert traced["theirs"].id.hex in adv
    for secret in ("9.88", sender, "sender_ip"):
        assert secret not in adv  # neither in the trace nor in the facts panel
    staff = _page(nadia, traced["id"])
    assert all(s in staff for s in ("9.88", "14.81", sender, traced["theirs"].id.hex))


def test_unknown_trace_keys_are_shown_to_staff_only() -> None:
    trace = {
        "verdict": {"status": "pending", "new_secret": "x"},
        "brand_new": {"anything": 1},
        "price": {"payout": "1.00", "revenue": "2.00"},
        "attribution": {"alternatives": [{"click_id": "c", "publisher_id": 9, "extra": "y"}]},
    }
    advertiser = Actor(role=Role.ADVERTISER, advertiser_id=1)
    publisher = Actor(role=Role.PUBLISHER, publisher_id=9)
    assert trace_for(trace, advertiser) == {
        "verdict": {"status": "pending"},
        "price": {"revenue": "2.00"},
        "attribution": {"alternatives": [{"click_id": "c", "publisher_id": 9}]},
    }
    assert trace_for(trace, publisher)["attribution"]["alternatives"] == [
        {"click_id": "c", "publisher_id": 9}
    ]
    assert trace_for(trace, Actor(role=Role.PUBLISHER, publisher_id=8))["attribution"]["alternatives"] == []
    assert trace_for(trace, Actor(role=Role.STAFF)) == trace
    assert trace_for(trace, Actor(role=Role.NONE)) == {}
    # A part of another shape than the allowlist expects is not shown to tenants.
    odd = {"attribution": "last_click", "rules": {"rule": "x"}, "verdict": {"status": "approved"}}
    assert trace_for(odd, advertiser) == {"verdict": {"status": "approved"}}


def test_the_advertisers_test_conversion_shows_the_advertisers_trace(
    ada, shoes, pixelpush, shoes_link
) -> None:
    client = Client()
    sign_in(client, ada)
    data = {"do": "test", "offer": shoes.pk, "goal": "sale", "publisher": pixelpush.pk, "amount": "123.45"}
    page = client.post("/advertiser/integration/", data).content.decode()
    assert "data-trace" in page
    assert "14.81" in page  # revenue: 12 % of 123.45
    assert "9.88" not in page  # the publisher's payout
    assert "sender_ip" not in page
