"""The admin pages for publisher postbacks render, and attempts cannot be edited there."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.tests.signin import sign_in
from payouts.models.callbacks import CallbackAttempt, CallbackDelivery
from payouts.tests.factories_callbacks import CallbackEndpointFactory


@pytest.fixture
def admin_client_nadia(nadia: Any) -> Client:
    client = Client()
    sign_in(client, nadia)
    return client


def test_staff_browse_postback_settings_deliveries_and_attempts(admin_client_nadia: Client) -> None:
    endpoint = CallbackEndpointFactory()
    delivery = CallbackDelivery.objects.create(
        key="x",
        endpoint=endpoint,
        publisher=endpoint.publisher,
        event="test",
        url="https://tracker.example.com/pb",
        give_up_at=endpoint.created_at,
    )
    attempt = CallbackAttempt.objects.create(
        delivery=delivery, method="GET", url=delivery.url, status_code=204
    )

    for url in (
        "/admin/payouts/callbackendpoint/",
        f"/admin/payouts/callbackendpoint/{endpoint.pk}/change/",
        "/admin/payouts/callbackdelivery/",
        f"/admin/payouts/callbackdelivery/{delivery.pk}/change/",
        "/admin/payouts/callbackattempt/",
    ):
        assert admin_client_nadia.get(url).status_code == 200, url
    assert admin_client_nadia.post(f"/admin/payouts/callbackattempt/{attempt.pk}/delete/").status_code == 403
