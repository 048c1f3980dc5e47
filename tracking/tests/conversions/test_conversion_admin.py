"""The conversion admin: lists, shows the trace, and reviews held conversions via services."""

from __future__ import annotations

import pytest

from affiliates.tests.signin import sign_in
from tracking.models import Conversion, ConversionEvent, UnreconciledConversion
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


def test_staff_can_list_and_open_a_conversion(edge, client, nadia, shoes_click) -> None:
    conv_id = postback(edge, click_id=shoes_click.id.hex, goal="lead").json()["conversion_id"]
    sign_in(client, nadia)
    assert client.get("/admin/tracking/conversion/").status_code == 200
    page = client.get(f"/admin/tracking/conversion/{conv_id}/change/")
    assert page.status_code == 200
    assert b"last_click" in page.content


def test_approving_a_held_conversion_now_decides_its_review_with_an_event(
    edge, client, nadia, shoes, pixelpush, shoes_link
):
    click = click_make(shoes, pixelpush, is_unique=False)
    conv_id = postback(edge, click_id=click.id.hex, goal="lead").json()["conversion_id"]
    sign_in(client, nadia)
    client.post(
        "/admin/tracking/conversion/", {"action": "approve_now", "_selected_action": [conv_id]}, follow=True
    )
    conv = Conversion.objects.get(pk=conv_id)
    assert (conv.status, conv.held_for_review) == ("approved", False)
    assert UnreconciledConversion.objects.filter(conversion=conv).exists()  # for payouts to follow
    assert ConversionEvent.objects.exclude(from_status="").get().actor == f"staff:{nadia.pk}"
