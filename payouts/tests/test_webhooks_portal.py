"""The webhook pages: subscribe, see the secret once, rotate it, test, re-send; tenants apart."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.tests.signin import sign_in
from payouts.models.webhooks import WebhookSubscription
from payouts.tests.callback_server import Recorder

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_a_publisher_subscribes_sees_the_secret_once_and_rotates_it(pia: Any, server: Recorder) -> None:
    client = _client(pia)
    page = client.get("/webhooks/")
    assert page.status_code == 200
    assert b"Invoice issued" not in page.content  # publishers are not invoiced
    created = client.post(
        "/webhooks/",
        {"name": "CRM", "url": server.base_url + "/h", "events": ["commission", "payout"], "is_active": "on"},
    )
    assert created.status_code == 200
    sub = WebhookSubscription.objects.get()
    assert (sub.owner, sub.publisher_id, sub.events) == (
        "publisher",
        pia.publishers.get().pk,
        ["commission", "payout"],
    )
    assert sub.secret.encode() in created.content
    detail = client.get(f"/webhooks/{sub.pk}/")
    assert sub.secret.encode() not in detail.content
    rotated = client.post(f"/webhooks/{sub.pk}/", {"do": "rotate"})
    sub.refresh_from_db()
    assert sub.secret.encode() in rotated.content
    assert sub.previous_secret


def test_a_test_event_lands_in_the_log_and_can_be_resent(pia: Any, server: Recorder) -> None:
    client = _client(pia)
    client.post("/webhooks/", {"url": server.base_url + "/h", "events": ["commission"], "is_active": "on"})
    sub = WebhookSubscription.objects.get()
    assert client.post(f"/webhooks/{sub.pk}/", {"do": "test"}).status_code == 302
    delivery = sub.deliveries.get()
    log = client.get(f"/webhooks/{sub.pk}/")
    assert f'data-delivery="{delivery.pk}"'.encode() in log.content
    client.post(f"/webhooks/{sub.pk}/", {"do": "resend", "delivery": delivery.pk})
    assert len(server.hits) == 2
    assert delivery.attempts.count() == 2


def test_another_tenants_webhook_is_not_found_and_staff_see_the_networks_own(
    pia: Any, rex: Any, nadia: Any, server: Recorder
) -> None:
    _client(pia).post("/webhooks/", {"url": server.base_url + "/h", "events": ["click"], "is_active": "on"})
    sub = WebhookSubscription.objects.get()
    assert _client(rex).get(f"/webhooks/{sub.pk}/").status_code == 404
    assert _client(rex).post(f"/webhooks/{sub.pk}/", {"do": "rotate"}).status_code == 404
    staff = _client(nadia)
    assert staff.get(f"/webhooks/{sub.pk}/").status_code == 404  # the publisher's own
    staff.post("/webhooks/", {"url": server.base_url + "/n", "events": ["invoice"], "is_active": "on"})
    assert WebhookSubscription.objects.get(owner="network").events == ["invoice"]


def test_a_private_address_is_refused_on_the_form(pia: Any) -> None:
    page = _client(pia).post(
        "/webhooks/", {"url": "http://192.168.1.10/h", "events": ["click"], "is_active": "on"}
    )
    assert page.status_code == 200
    assert page.context["form"].errors["url"]
    assert not WebhookSubscription.objects.exists()


def test_deleting_a_webhook_needs_the_box_ticked(pia: Any, server: Recorder) -> None:
    client = _client(pia)
    client.post("/webhooks/", {"url": server.base_url + "/h", "events": ["click"], "is_active": "on"})
    sub = WebhookSubscription.objects.get()
    refused = client.post(f"/webhooks/{sub.pk}/", {"do": "delete"}, follow=True)
    assert "Tick the box to confirm the deletion." in refused.content.decode()
    assert WebhookSubscription.objects.filter(pk=sub.pk).exists()
    client.post(f"/webhooks/{sub.pk}/", {"do": "delete", "confirm_delete": "1"})
    assert not WebhookSubscription.objects.filter(pk=sub.pk).exists()
