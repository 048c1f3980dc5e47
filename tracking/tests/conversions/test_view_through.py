"""View-through: a pixel with no click goes to the visitor's latest impression, where the offer
enables it, labelled and priced by the offer's view-through goal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from affiliates.models import Offer
from affiliates.tests import factories as f
from tracking.models import Conversion, Impression
from tracking.tests.factories import CHROME_UA, HOME_IP

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(edge: Any) -> Any:
    return edge


def _impression(offer: Offer, publisher: Any, *, ago: timedelta, **fields: Any) -> Impression:
    return Impression.objects.create(
        offer=offer,
        publisher=publisher,
        created_at=timezone.now() - ago,
        ip=fields.pop("ip", HOME_IP),
        user_agent=CHROME_UA,
        sub1="banner-top",
        source="display",
        **fields,
    )


@pytest.fixture
def vt_shoes(shoes: Offer, shoes_link: Any) -> Offer:
    f.GoalFactory(
        offer=shoes, code="vt-lead", name="View-through lead", payout_type="cpl", payout=Decimal("0.20"),
        revenue=Decimal("0.40"),
    )  # fmt: skip
    Offer.objects.filter(pk=shoes.pk).update(
        view_through_enabled=True, view_through_window_hours=24, view_through_goal="vt-lead"
    )
    return Offer.objects.get(pk=shoes.pk)


def test_a_pixel_after_an_impression_and_no_click_is_a_view_through_conversion(client, vt_shoes, pixelpush):
    seen = _impression(vt_shoes, pixelpush, ago=timedelta(hours=3))
    client.get(f"/p/{vt_shoes.id}.gif", {"goal": "lead"}, REMOTE_ADDR=HOME_IP, HTTP_USER_AGENT=CHROME_UA)
    conv = Conversion.objects.get()
    assert (conv.status, conv.publisher_id, conv.click_id) == ("pending", pixelpush.id, None)
    assert conv.goal.code == "vt-lead"  # priced by its own goal, not the reported one
    assert conv.trace["attribution"]["by"] == "view_through"
    assert conv.trace["attribution"]["impression_id"] == seen.id.hex
    assert conv.trace["price"]["payout"] == "0.20"
    assert (conv.sub1, conv.source_id) == ("banner-top", "display")
    assert "pixel_without_cookie" not in conv.fraud_flags


def test_an_impression_older_than_the_view_window_attributes_nothing(client, vt_shoes, pixelpush):
    _impression(vt_shoes, pixelpush, ago=timedelta(hours=30))
    client.get(f"/p/{vt_shoes.id}.gif", {"goal": "lead"}, REMOTE_ADDR=HOME_IP, HTTP_USER_AGENT=CHROME_UA)
    conv = Conversion.objects.get()
    assert (conv.status, conv.reason) == ("rejected", "unknown_click")


def test_an_offer_without_view_through_ignores_impressions(client, shoes, shoes_link, pixelpush):
    _impression(shoes, pixelpush, ago=timedelta(hours=1))
    client.get(f"/p/{shoes.id}.gif", {"goal": "lead"}, REMOTE_ADDR=HOME_IP, HTTP_USER_AGENT=CHROME_UA)
    assert Conversion.objects.get().reason == "unknown_click"


def test_a_flagged_impression_is_not_a_view(client, vt_shoes, pixelpush):
    _impression(vt_shoes, pixelpush, ago=timedelta(hours=1), fraud_flags=["bot_user_agent"])
    client.get(f"/p/{vt_shoes.id}.gif", {"goal": "lead"}, REMOTE_ADDR=HOME_IP, HTTP_USER_AGENT=CHROME_UA)
    assert Conversion.objects.get().reason == "unknown_click"
