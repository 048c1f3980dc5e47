"""The postbacks API: a publisher manages its own URLs and reads its own delivery log."""

from __future__ import annotations

from typing import Any

import pytest

from affiliates.models import Offer, Publisher
from affiliates.tests.factories import GoalFactory, OfferFactory
from payouts.callbacks.services import callbacks_fire
from payouts.models.callbacks import CallbackDelivery, CallbackEndpoint
from payouts.tests.callback_server import Recorder
from payouts.tests.factories_callbacks import CallbackEndpointFactory, ConversionFactory
from payouts.tests.factories_payouts import CommissionFactory

ENDPOINTS = "/api/v1/postback-endpoints/"
DELIVERIES = "/api/v1/postback-deliveries/"


@pytest.fixture
def pia_endpoint(pixelpush: Publisher) -> CallbackEndpoint:
    return CallbackEndpointFactory(publisher=pixelpush, url="https://track.pixelpush.example/pb?c={click_id}")


@pytest.fixture
def rex_endpoint(rival: Publisher) -> CallbackEndpoint:
    return CallbackEndpointFactory(publisher=rival, url="https://rival.example/pb?c={click_id}")


def test_a_publisher_creates_its_global_postback(api_as: Any, pia: Any, pixelpush: Publisher) -> None:
    response = api_as(pia).post(
        ENDPOINTS,
        {
            "url": "https://track.pixelpush.example/pb?c={click_id}&p={payout}",
            "events": ["created", "reversed"],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["publisher"] == pixelpush.pk
    assert body["scope"] == "global"
    assert body["events"] == ["created", "reversed"]
    assert body["method"] == "GET"
    endpoint = CallbackEndpoint.objects.get()
    assert (endpoint.on_created, endpoint.on_approved, endpoint.on_reversed) == (True, False, True)


def test_a_publisher_cannot_create_one_for_another_publisher(
    api_as: Any, pia: Any, pixelpush: Publisher, rival: Publisher
) -> None:
    response = api_as(pia).post(
        ENDPOINTS,
        {"url": "https://t.example/pb", "publisher": rival.pk, "events": ["created"]},
        format="json",
    )

    assert response.status_code == 201
    assert CallbackEndpoint.objects.get().publisher == pixelpush


def test_a_goal_postback_takes_its_offer_from_the_goal(api_as: Any, pia: Any, shoes: Offer) -> None:
    lead = shoes.goals.get(code="lead")

    response = api_as(pia).post(
        ENDPOINTS, {"url": "https://t.example/pb?g={goal}", "goal": lead.pk, "method": "POST"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["offer"] == shoes.pk
    assert response.json()["scope"] == "goal"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://t.example/pb?x={nope}", "unknown_macro"),
        ("http://127.0.0.1/pb", "blocked_address"),
        ("http://0177.0.0.1/pb", "ambiguous_ip"),
        ("gopher://t.example/", "bad_url"),
        ("https://{sub1}.t.example/", "macro_in_host"),
    ],
)
def test_a_bad_template_is_a_400_with_a_reason(api_as: Any, pia: Any, url: str, code: str) -> None:
    response = api_as(pia).post(ENDPOINTS, {"url": url}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert "url" in response.json()["fields"]
    assert not CallbackEndpoint.objects.exists()


def test_a_second_global_postback_is_refused(api_as: Any, pia: Any, pia_endpoint: CallbackEndpoint) -> None:
    response = api_as(pia).post(ENDPOINTS, {"url": "https://other.example/pb"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_postback"


def test_a_goal_of_another_offer_is_refused(api_as: Any, pia: Any, shoes: Offer) -> None:
    foreign_goal = GoalFactory(offer=OfferFactory(visibility=Offer.Visibility.PUBLIC))

    response = api_as(pia).post(
        ENDPOINTS, {"url": "https://t.example/pb", "offer": shoes.pk, "goal": foreign_goal.pk}, format="json"
    )

    assert response.status_code == 400
    assert "goal" in response.json()["fields"]


def test_a_publisher_cannot_scope_a_postback_to_a_private_offer_it_cannot_see(api_as: Any, pia: Any) -> None:
    hidden = OfferFactory(visibility=Offer.Visibility.PRIVATE)

    response = api_as(pia).post(ENDPOINTS, {"url": "https://t.example/pb", "offer": hidden.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"]["offer"]


def test_staff_must_name_the_publisher(api_as: Any, nadia: Any, rival: Publisher) -> None:
    missing = api_as(nadia).post(ENDPOINTS, {"url": "https://t.example/pb"}, format="json")
    given = api_as(nadia).post(
        ENDPOINTS, {"url": "https://t.example/pb", "publisher": rival.pk}, format="json"
    )

    assert missing.status_code == 400
    assert missing.json()["fields"]["publisher"]
    assert given.status_code == 201
    assert given.json()["publisher"] == rival.pk


def test_a_publisher_updates_and_deletes_its_postback(
    api_as: Any, pia: Any, pia_endpoint: CallbackEndpoint
) -> None:
    client = api_as(pia)
    url = f"{ENDPOINTS}{pia_endpoint.pk}/"

    patched = client.patch(url, {"events": ["approved"], "is_active": False}, format="json")
    deleted = client.delete(url)

    assert patched.status_code == 200
    assert patched.json()["events"] == ["approved"]
    assert patched.json()["is_active"] is False
    assert deleted.status_code == 204
    assert not CallbackEndpoint.objects.exists()


def test_another_publishers_postback_is_not_found(
    api_as: Any, pia: Any, pia_endpoint: CallbackEndpoint, rex_endpoint: CallbackEndpoint
) -> None:
    client = api_as(pia)
    url = f"{ENDPOINTS}{rex_endpoint.pk}/"

    assert [e["id"] for e in client.get(ENDPOINTS).json()["results"]] == [pia_endpoint.pk]
    assert client.get(url).status_code == 404
    assert client.patch(url, {"url": "https://evil.example/"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    assert client.post(f"{url}test/").status_code == 404
    rex_endpoint.refresh_from_db()
    assert rex_endpoint.url == "https://rival.example/pb?c={click_id}"


def test_advertisers_are_refused_publisher_postbacks(
    api_as: Any, ada: Any, pia_endpoint: CallbackEndpoint
) -> None:
    client = api_as(ada)

    assert client.get(ENDPOINTS).status_code == 403
    assert client.get(f"{ENDPOINTS}{pia_endpoint.pk}/").status_code == 403
    assert client.post(ENDPOINTS, {"url": "https://t.example/pb"}, format="json").status_code == 403
    assert client.get(DELIVERIES).status_code == 403
    assert client.get(ENDPOINTS).json()["code"] == "permission_denied"


def test_staff_see_every_publishers_postbacks(
    api_as: Any, nadia: Any, pia_endpoint: CallbackEndpoint, rex_endpoint: CallbackEndpoint
) -> None:
    ids = {e["id"] for e in api_as(nadia).get(ENDPOINTS).json()["results"]}

    assert ids == {pia_endpoint.pk, rex_endpoint.pk}


def test_a_test_fire_delivers_sample_values_once_and_returns_the_attempt(
    api_as: Any, pia: Any, pixelpush: Publisher, server: Recorder
) -> None:
    endpoint = CallbackEndpointFactory(
        publisher=pixelpush, url=server.base_url + "/pb?c={click_id}&s1={sub1}&st={status}&t={event_time}"
    )

    response = api_as(pia).post(f"{ENDPOINTS}{endpoint.pk}/test/")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["status_code"] == 200
    assert body["trigger"] == "test"
    [hit] = server.hits
    assert hit.query["s1"] == ["test_sub1"]
    assert hit.query["st"] == ["approved"]
    assert len(hit.query["c"][0]) == 32
    delivery = CallbackDelivery.objects.get()
    assert delivery.event == "test"
    assert delivery.status == "delivered"


def _deliveries(server: Recorder, publisher: Publisher, capture: Any, count: int = 1) -> list[Any]:
    CallbackEndpointFactory(publisher=publisher, url=server.base_url + "/pb?c={click_id}")
    commissions = [CommissionFactory(conversion=ConversionFactory(publisher=publisher)) for _ in range(count)]
    with capture(execute=True):
        callbacks_fire(commission_ids=[c.pk for c in commissions], event="created")
    return commissions


def test_a_publisher_reads_its_deliveries_and_their_attempts(
    api_as: Any,
    pia: Any,
    pixelpush: Publisher,
    rival: Publisher,
    server: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    server.reply(500, "down")
    [first, _] = _deliveries(server, pixelpush, django_capture_on_commit_callbacks, count=2)
    _deliveries(server, rival, django_capture_on_commit_callbacks)
    client = api_as(pia)

    listed = client.get(DELIVERIES).json()["results"]
    pending = client.get(DELIVERIES, {"status": "pending"}).json()["results"]
    by_offer = client.get(DELIVERIES, {"offer": first.offer_id, "event": "created"}).json()["results"]
    failed_one = CallbackDelivery.objects.get(commission=first)
    attempts = client.get(f"{DELIVERIES}{failed_one.pk}/attempts/").json()["results"]

    assert {d["publisher"] for d in listed} == {pixelpush.pk}
    assert len(listed) == 2
    assert [d["id"] for d in pending] == [failed_one.pk]
    assert [d["commission"] for d in by_offer] == [first.pk]
    assert len(attempts) == 1
    assert attempts[0]["status_code"] == 500
    assert attempts[0]["response_excerpt"] == "down"
    assert attempts[0]["latency_ms"] is not None


def test_a_publisher_resends_a_delivery(
    api_as: Any, pia: Any, pixelpush: Publisher, server: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    server.reply(500)
    _deliveries(server, pixelpush, django_capture_on_commit_callbacks)
    delivery = CallbackDelivery.objects.get()

    response = api_as(pia).post(f"{DELIVERIES}{delivery.pk}/resend/")

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["trigger"] == "resend"
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert len(server.hits) == 2


def test_another_publishers_delivery_is_not_found(
    api_as: Any, rex: Any, pixelpush: Publisher, server: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    _deliveries(server, pixelpush, django_capture_on_commit_callbacks)
    delivery = CallbackDelivery.objects.get()
    client = api_as(rex)

    assert client.get(f"{DELIVERIES}{delivery.pk}/").status_code == 404
    assert client.get(f"{DELIVERIES}{delivery.pk}/attempts/").status_code == 404
    assert client.post(f"{DELIVERIES}{delivery.pk}/resend/").status_code == 404
    assert len(server.hits) == 1
