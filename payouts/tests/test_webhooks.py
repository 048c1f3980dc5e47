"""Webhooks for integrators: subscriptions, role-scoped signed events, the log, re-send."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from affiliates.models import Advertiser, Offer, Publisher
from payouts.callbacks import services
from payouts.callbacks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid
from payouts.callbacks.webhooks import (
    webhook_secret_rotate,
    webhook_subscription_create,
    webhooks_clicks_scan,
    webhooks_commissions_changed,
)
from payouts.models.callbacks import CallbackDelivery
from payouts.models.webhooks import WebhookSubscription
from payouts.tests.callback_server import Hit, Recorder
from payouts.tests.factories_callbacks import ConversionFactory
from payouts.tests.factories_payouts import CommissionFactory
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


def _verified(hit: Hit, secret: str) -> dict[str, Any]:
    """What a receiver does: check the signature over timestamp + raw body, then parse."""
    assert signature_valid(
        secret=secret,
        header=hit.headers[SIGNATURE_HEADER],
        timestamp=hit.headers[TIMESTAMP_HEADER],
        body=hit.body,
        now=int(time.time()),
    )
    assert hit.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = json.loads(hit.body)
    return body


def _commission(offer: Offer, publisher: Publisher) -> Any:
    goal = offer.goals.get(code="sale")
    return CommissionFactory(conversion=ConversionFactory(goal=goal, publisher=publisher))


def _subscribe(owner: str, url: str, events: list[str], **tenant: Any) -> WebhookSubscription:
    return webhook_subscription_create(owner=owner, url=url, events=events, **tenant)


def test_each_subscriber_gets_a_signed_event_with_only_the_fields_its_role_may_see(
    server: Recorder,
    shoes: Offer,
    acme: Advertiser,
    pixelpush: Publisher,
    rival: Publisher,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = server.base_url
    network = _subscribe("network", f"{url}/network", ["commission"])
    advertiser = _subscribe("advertiser", f"{url}/acme", ["commission"], advertiser=acme)
    publisher = _subscribe("publisher", f"{url}/pixelpush", ["commission"], publisher=pixelpush)
    _subscribe("publisher", f"{url}/rival", ["commission"], publisher=rival)  # not its conversion
    commission = _commission(shoes, pixelpush)

    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_commissions_changed(event="approved", commission_ids=[commission.pk]) == 3

    hits = {hit.path: hit for hit in server.hits}
    assert sorted(hits) == ["/acme", "/network", "/pixelpush"]
    seen = {
        path: _verified(hits[f"/{path}"], sub.secret)["data"]
        for path, sub in [("network", network), ("acme", advertiser), ("pixelpush", publisher)]
    }
    assert (seen["network"]["payout"], seen["network"]["revenue"]) == ("10.00", "15.00")
    assert seen["acme"]["revenue"] == "15.00"
    assert "payout" not in seen["acme"]  # advertisers never see the publisher's payout
    assert seen["pixelpush"]["payout"] == "10.00"
    assert "revenue" not in seen["pixelpush"]  # publishers never see the network's revenue
    envelope = json.loads(hits["/pixelpush"].body)
    assert (envelope["event"], envelope["type"]) == ("commission", "commission.approved")
    assert hits["/pixelpush"].headers["X-Affnet-Webhook-Event"] == "commission.approved"
    assert CallbackDelivery.objects.filter(status="delivered", subscription__isnull=False).count() == 3


def test_a_signature_made_with_another_secret_or_an_old_timestamp_does_not_verify(
    server: Recorder, shoes: Offer, pixelpush: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    sub = _subscribe("publisher", server.base_url, ["commission"], publisher=pixelpush)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_commissions_changed(event="created", commission_ids=[_commission(shoes, pixelpush).pk])
    [hit] = server.hits
    args = {
        "header": hit.headers[SIGNATURE_HEADER],
        "timestamp": hit.headers[TIMESTAMP_HEADER],
        "body": hit.body,
    }
    assert signature_valid(secret=sub.secret, now=int(time.time()), **args)
    assert not signature_valid(secret="whsec_wrong", now=int(time.time()), **args)
    assert not signature_valid(secret=sub.secret, now=int(time.time()) + 600, **args)  # a replay
    assert not signature_valid(secret=sub.secret, now=int(time.time()), **{**args, "body": hit.body + " "})


def test_a_conversion_commission_also_announces_its_conversion(
    server: Recorder,
    shoes: Offer,
    acme: Advertiser,
    pixelpush: Publisher,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sub = _subscribe(
        "advertiser", server.base_url, ["conversion.created", "conversion.status_changed"], advertiser=acme
    )
    commission = _commission(shoes, pixelpush)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_commissions_changed(event="created", commission_ids=[commission.pk])
        webhooks_commissions_changed(
            event="created", commission_ids=[commission.pk]
        )  # fired twice: owed once
    [hit] = server.hits
    body = _verified(hit, sub.secret)
    assert body["type"] == "conversion.created"
    assert body["data"]["id"] == commission.conversion_id
    assert body["data"]["txn_id"] == commission.conversion.txn_id


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(
    server: Recorder, shoes: Offer, pixelpush: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    sub = _subscribe("publisher", server.base_url, ["commission"], publisher=pixelpush)
    old = sub.secret
    rotated = webhook_secret_rotate(subscription=sub)
    assert rotated.secret != old
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_commissions_changed(event="created", commission_ids=[_commission(shoes, pixelpush).pk])
    [hit] = server.hits
    assert hit.headers[SIGNATURE_HEADER].count("v1=") == 2
    _verified(hit, rotated.secret)
    _verified(hit, old)
    WebhookSubscription.objects.filter(pk=sub.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    rotated.refresh_from_db()
    assert rotated.signing_secrets() == [rotated.secret]


def test_a_failed_event_is_retried_later_and_can_be_resent_by_hand(
    server: Recorder, shoes: Offer, pixelpush: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    sub = _subscribe("publisher", server.base_url, ["commission"], publisher=pixelpush)
    server.reply(500, "down")
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_commissions_changed(event="created", commission_ids=[_commission(shoes, pixelpush).pk])
    delivery = CallbackDelivery.objects.get(subscription=sub)
    assert (delivery.status, delivery.last_status_code) == ("pending", 500)
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at > timezone.now()
    attempt = services.delivery_resend(delivery=delivery)
    assert attempt.ok
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert [a.trigger for a in delivery.attempts.all()] == ["auto", "resend"]
    first, second = server.hits
    assert first.headers["X-Affnet-Webhook-Id"] == second.headers["X-Affnet-Webhook-Id"]
    assert first.body == second.body
    _verified(second, sub.secret)


def test_a_webhook_to_a_private_address_is_refused_when_it_is_sent(
    settings: Any, shoes: Offer, pixelpush: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = []
    sub = WebhookSubscription.objects.create(
        owner="publisher", publisher=pixelpush, url="http://127.0.0.1:9/hook", events=["commission"]
    )  # saved unvetted, as a host whose DNS changed later would be
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_commissions_changed(event="created", commission_ids=[_commission(shoes, pixelpush).pk])
    delivery = CallbackDelivery.objects.get(subscription=sub)
    assert delivery.status == "failed"
    assert delivery.attempts.get().error_code in {
        "blocked_address",
        "private_address",
        "loopback_address",
    } or ("127.0.0.1" in delivery.last_error)


def test_subscribing_refuses_a_private_url_and_events_the_owner_cannot_get(pixelpush: Publisher) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        _subscribe("publisher", "http://10.0.0.5/hook", ["invoice"], publisher=pixelpush)
    assert set(refused.value.message_dict) == {"url", "events"}


def test_clicks_are_announced_to_the_publisher_whose_link_it_was(
    server: Recorder,
    shoes: Offer,
    pixelpush: Publisher,
    rival: Publisher,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sub = _subscribe("publisher", server.base_url, ["click"], publisher=pixelpush)
    WebhookSubscription.objects.filter(pk=sub.pk).update(
        clicks_seen_until=timezone.now() - timedelta(hours=1)
    )
    mine = click_make(shoes, pixelpush, sub1="campaign-7")
    click_make(shoes, rival)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_clicks_scan() == 1
        assert webhooks_clicks_scan() == 0  # seen
    [hit] = server.hits
    data = _verified(hit, sub.secret)["data"]
    assert (data["id"], data["sub1"], data["offer_id"]) == (mine.id.hex, "campaign-7", shoes.pk)
    assert "ip" not in data  # visitor addresses go to the network only


# --- API ------------------------------------------------------------------------------------


def test_the_api_shows_the_secret_once_and_scopes_subscriptions_to_their_owner(
    api_as: Any, ada: Any, gus: Any, acme: Advertiser, server: Recorder
) -> None:
    created = api_as(ada).post(
        "/api/v1/webhooks/",
        {"url": f"{server.base_url}/h", "events": ["invoice", "commission"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert (body["owner"], body["advertiser"]) == ("advertiser", acme.pk)
    sub_url = f"/api/v1/webhooks/{body['id']}/"
    assert "secret" not in api_as(ada).get(sub_url).json()
    assert api_as(gus).get(sub_url).status_code == 404  # another advertiser's: not found
    rotated = api_as(ada).post(f"{sub_url}rotate-secret/").json()
    assert rotated["secret"] not in ("", body["secret"])
    refused = api_as(ada).post(
        "/api/v1/webhooks/", {"url": f"{server.base_url}/h", "events": ["payout"]}, format="json"
    )
    assert refused.status_code == 400
    assert "events" in refused.json()["fields"]


def test_the_api_lists_a_publishers_webhook_deliveries_and_resends_one(
    api_as: Any,
    pia: Any,
    rex: Any,
    pixelpush: Publisher,
    shoes: Offer,
    server: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sub = _subscribe("publisher", server.base_url, ["commission"], publisher=pixelpush)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_commissions_changed(event="created", commission_ids=[_commission(shoes, pixelpush).pk])
    rows = api_as(pia).get("/api/v1/webhook-deliveries/").json()["results"]
    assert [(r["subscription"], r["event"], r["status"]) for r in rows] == [
        (sub.pk, "commission.created", "delivered")
    ]
    assert api_as(rex).get("/api/v1/webhook-deliveries/").json()["results"] == []
    resent = api_as(pia).post(f"/api/v1/webhook-deliveries/{rows[0]['id']}/resend/")
    assert resent.json()["ok"] is True
    assert len(server.hits) == 2
    tested = api_as(pia).post(f"/api/v1/webhooks/{sub.pk}/test/").json()
    assert tested["ok"] is True
    assert json.loads(server.hits[-1].body)["type"] == "test.ping"


def test_the_schema_documents_each_webhook_event(client: Any) -> None:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["webhooks"]) == {
        "click",
        "conversion.created",
        "conversion.status_changed",
        "commission",
        "payout",
        "invoice",
    }
    commission = schema["webhooks"]["commission"]["post"]
    assert "X-Affnet-Webhook-Signature" in commission["description"]
    assert "<timestamp>.<raw body>" in commission["description"]
    envelope = commission["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    data = schema["components"]["schemas"][envelope]["properties"]["data"]
    ref = (data.get("$ref") or data["allOf"][0]["$ref"]).split("/")[-1]
    assert {"payout", "revenue"} <= set(schema["components"]["schemas"][ref]["properties"])
