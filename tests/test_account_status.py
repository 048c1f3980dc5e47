"""Account status is one rule (affiliates.roles.account_check / approval_check), enforced by
the API and the portals alike: a suspended advertiser changes nothing, a publisher the network
has not let in (or has shut out) cannot apply or set up postbacks, and an advertiser cannot let
a publisher the network rejected into its offers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.models import Advertiser, Offer, OfferAccess, Publisher
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.models import Commission
from tests.portal_data import conversion_make
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db

LANDING = "https://shop.example.com/?c={click_id}"
OFFER = {
    "name": "Boots",
    "landing_url": LANDING,
    "goals": [{"code": "sale", "name": "Sale", "payout_type": "cpa", "payout": "5", "revenue": "8"}],
}


def _status(tenant: Advertiser | Publisher, status: str) -> None:
    type(tenant).objects.filter(pk=tenant.pk).update(status=status)


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 403, response.content
    assert response.json()["code"] == code


def _portal(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


# --- advertisers -----------------------------------------------------------------------------


def test_a_suspended_advertiser_cannot_create_or_change_offers(api_as, ada, acme, shoes) -> None:
    _status(acme, Advertiser.Status.SUSPENDED)
    api = api_as(ada)
    _refused(
        api.post("/api/v1/offers/", {**OFFER, "advertiser": acme.pk}, format="json"), "account_suspended"
    )
    _refused(api.patch(f"/api/v1/offers/{shoes.pk}/", {"name": "X"}, format="json"), "account_suspended")
    _refused(
        api.post("/api/v1/caps/", {"offer": shoes.pk, "metric": "clicks", "period": "day", "limit": "5"}),
        "account_suspended",
    )
    _refused(
        api.put(f"/api/v1/offer-targets/{shoes.pk}/", {"conversions": 10}, format="json"), "account_suspended"
    )
    assert api.get("/api/v1/offers/").status_code == 200  # reading stays open
    assert Offer.objects.filter(advertiser=acme).count() == 1


def test_a_paused_advertiser_still_manages_its_offers(api_as, ada, acme) -> None:
    _status(acme, Advertiser.Status.PAUSED)
    response = api_as(ada).post("/api/v1/offers/", {**OFFER, "advertiser": acme.pk}, format="json")
    assert response.status_code == 201, response.content


def test_a_suspended_advertiser_cannot_decide_commissions(api_as, ada, acme, shoes_link) -> None:
    conversion = conversion_make(click=click_make(shoes_link.offer, shoes_link.publisher))
    commission = Commission.objects.get(conversion=conversion)
    _status(acme, Advertiser.Status.SUSPENDED)
    api = api_as(ada)
    _refused(api.post(f"/api/v1/commissions/{commission.pk}/approve/", {"reason": "ok"}), "account_suspended")
    body = {"ids": [commission.pk], "action": "approve", "reason": "ok"}
    _refused(api.post("/api/v1/commissions/bulk/", body, format="json"), "account_suspended")
    commission.refresh_from_db()
    assert commission.status == "pending"


def test_the_portal_refuses_a_suspended_advertiser_with_the_same_rule(ada, acme, shoes_link) -> None:
    conversion = conversion_make(click=click_make(shoes_link.offer, shoes_link.publisher))
    access = f.OfferAccessFactory(
        offer=shoes_link.offer, publisher=f.PublisherFactory(), status=OfferAccess.Status.PENDING
    )
    _status(acme, Advertiser.Status.SUSPENDED)
    portal = _portal(ada)
    for url, data in (
        ("/advertiser/offers/new/", {"name": "Boots"}),
        (f"/advertiser/access/{access.pk}/decide/", {"decision": "approved"}),
        ("/advertiser/conversions/status/", {"ids": [conversion.pk], "action": "approved"}),
    ):
        response = portal.post(url, data)
        assert response.status_code == 403, url
        assert b'data-refused="account_suspended"' in response.content
    assert portal.get("/advertiser/offers/").status_code == 200
    access.refresh_from_db()
    assert access.status == OfferAccess.Status.PENDING
    assert Commission.objects.get(conversion=conversion).status == "pending"


# --- publishers ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "suspended", "rejected"])
def test_a_publisher_the_network_has_not_let_in_cannot_apply_or_add_postbacks(
    api_as, pia, pixelpush, shoes, status
) -> None:
    _status(pixelpush, status)
    api = api_as(pia)
    _refused(api.post("/api/v1/accesses/", {"offer": shoes.pk}), f"account_{status}")
    _refused(
        api.post("/api/v1/postback-endpoints/", {"url": "https://t.example.com/pb?c={click_id}"}),
        f"account_{status}",
    )
    assert not OfferAccess.objects.filter(publisher=pixelpush).exists()
    assert api.get("/api/v1/accesses/").status_code == 200
    # Its own profile stays editable (a pending publisher completes it).
    assert (
        api.patch(f"/api/v1/publishers/{pixelpush.pk}/", {"website": "https://p.example"}).status_code == 200
    )


def test_an_active_publisher_applies_and_adds_postbacks(api_as, pia, shoes) -> None:
    api = api_as(pia)
    assert api.post("/api/v1/accesses/", {"offer": shoes.pk}).status_code == 201
    endpoint = {"url": "https://track.pixelpush.example/pb?c={click_id}", "events": ["created"]}
    response = api.post("/api/v1/postback-endpoints/", endpoint, format="json")
    assert response.status_code == 201, response.content


# --- approving publishers the network shut out ----------------------------------------------


@pytest.mark.parametrize("status", ["rejected", "suspended"])
def test_an_advertiser_cannot_approve_a_publisher_the_network_shut_out(
    api_as, ada, nadia, shoes, rival, status
) -> None:
    access = f.OfferAccessFactory(offer=shoes, publisher=rival, status=OfferAccess.Status.PENDING)
    _status(rival, status)
    api = api_as(ada)
    _refused(api.post(f"/api/v1/accesses/{access.pk}/approve/", {}), f"publisher_{status}")
    _refused(api.post("/api/v1/links/", {"offer": shoes.pk, "publisher": rival.pk}), f"publisher_{status}")
    _refused(api.post("/api/v1/accesses/", {"offer": shoes.pk, "publisher": rival.pk}), f"publisher_{status}")
    assert api.post(f"/api/v1/accesses/{access.pk}/reject/", {}).status_code == 200  # rejecting is fine
    # The network itself can let it back in.
    assert api_as(nadia).post(f"/api/v1/accesses/{access.pk}/approve/", {}).status_code == 200


def test_the_portal_does_not_approve_a_rejected_publisher_either(ada, shoes, rival) -> None:
    access = f.OfferAccessFactory(offer=shoes, publisher=rival, status=OfferAccess.Status.PENDING)
    _status(rival, Publisher.Status.REJECTED)
    response = _portal(ada).post(
        f"/advertiser/access/{access.pk}/decide/", {"decision": "approved"}, follow=True
    )
    assert "The network has rejected this publisher" in response.content.decode()
    access.refresh_from_db()
    assert access.status == OfferAccess.Status.PENDING


# --- smart links ------------------------------------------------------------------------------


def test_an_account_the_network_shut_out_makes_and_changes_no_smart_link(
    api_as, nadia, ada, acme, pia, pixelpush, shoes, shoes_link
) -> None:
    """A smart link sends traffic to offers: the same rule as offers (advertisers) and
    postbacks (publishers), in tracking.smartlinks.services, so the portal is held to it too."""
    paths = [{"offer": shoes.pk}, {"offer": shoes.pk, "is_catch_all": True}]
    made = api_as(nadia).post(
        "/api/v1/smart-links/", {"publisher": pixelpush.pk, "name": "Boots", "paths": paths}, format="json"
    )
    assert made.status_code == 201, made.content
    link = made.json()["id"]
    _status(acme, "suspended")
    _status(pixelpush, "suspended")
    body = {"publisher": pixelpush.pk, "name": "More boots", "paths": paths}
    _refused(api_as(ada).post("/api/v1/smart-links/", body, format="json"), "account_suspended")
    _refused(api_as(pia).post("/api/v1/smart-links/", body, format="json"), "account_suspended")
    renamed = api_as(pia).patch(f"/api/v1/smart-links/{link}/", {"name": "x"}, format="json")
    _refused(renamed, "account_suspended")
    _refused(api_as(pia).post(f"/api/v1/smart-links/{link}/optimise/"), "account_suspended")
    assert api_as(pia).get(f"/api/v1/smart-links/{link}/").json()["name"] == "Boots"
