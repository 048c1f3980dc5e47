"""The admin works for staff: every list, search and form renders, and the actions decide."""

from __future__ import annotations

import pytest
from django.urls import reverse

from affiliates.models import Advertiser, OfferAccess, Publisher
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

MODELS = ["advertiser", "publisher", "offer", "goal", "custompayout", "cap", "coupon", "offeraccess"]


@pytest.fixture
def staff_client(client, nadia, world):
    sign_in(client, nadia)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_list_search_and_form_renders(staff_client, world, model) -> None:
    assert staff_client.get(reverse(f"admin:affiliates_{model}_changelist"), {"q": "a"}).status_code == 200
    assert staff_client.get(reverse(f"admin:affiliates_{model}_add")).status_code == 200


def test_an_offer_page_shows_goals_caps_and_custom_payouts_inline(staff_client, world) -> None:
    html = staff_client.get(reverse("admin:affiliates_offer_change", args=[world.shoes.pk])).content.decode()
    assert "goals-TOTAL_FORMS" in html
    assert "caps-TOTAL_FORMS" in html
    assert "custom_payouts-TOTAL_FORMS" in html


def test_staff_approve_pending_publishers_from_the_list(staff_client, nadia) -> None:
    pending = f.PublisherFactory(status="pending")
    staff_client.post(
        reverse("admin:affiliates_publisher_changelist"),
        {"action": "publisher_approve", "_selected_action": [pending.pk]},
    )
    pending.refresh_from_db()
    assert (pending.status, pending.status_changed_by) == (Publisher.Status.ACTIVE, nadia)


def test_staff_reject_an_application_from_the_list(staff_client, world) -> None:
    access = f.OfferAccessFactory(offer=world.shoes, publisher=world.rival, status="pending")
    staff_client.post(
        reverse("admin:affiliates_offeraccess_changelist"),
        {"action": "access_rejected", "_selected_action": [access.pk]},
    )
    access.refresh_from_db()
    assert access.status == OfferAccess.Status.REJECTED


def test_staff_rotate_an_advertisers_postback_token(staff_client, world) -> None:
    before = Advertiser.objects.get(pk=world.acme.pk).postback_token_digest
    response = staff_client.post(
        reverse("admin:affiliates_advertiser_changelist"),
        {"action": "rotate_postback_token", "_selected_action": [world.acme.pk]},
        follow=True,
    )
    assert Advertiser.objects.get(pk=world.acme.pk).postback_token_digest != before
    assert "new postback token" in response.content.decode()
