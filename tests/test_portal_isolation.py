"""Role isolation in the portals, as in the API: a page of another role, or another tenant's
object, answers 404; a signed-out visitor is sent to log in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from affiliates.models import OfferAccess
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from tests.portal_data import conversion_make, payout_run_make
from tracking.tests.factories import click_make

PUBLISHER_PAGES = [
    "/publisher/",
    "/publisher/offers/",
    "/publisher/my-offers/",
    "/publisher/profile/",
    "/publisher/conversions/",
    "/publisher/payouts/",
    "/publisher/postbacks/",
]
ADVERTISER_PAGES = [
    "/advertiser/",
    "/advertiser/offers/",
    "/advertiser/offers/new/",
    "/advertiser/publishers/",
    "/advertiser/conversions/",
    "/advertiser/integration/",
]
STAFF_PAGES = ["/staff/", "/staff/publishers/", "/staff/access/", "/staff/fraud/", "/staff/payout-runs/"]
SHARED_PAGES = ["/reports/"]


@pytest.fixture
def world(nadia, ada, gus, pia, rex, shoes_link):
    click = click_make(offer=shoes_link.offer, publisher=shoes_link.publisher, sub1="spring")
    conversion = conversion_make(click=click, txn_id="ORD-1")
    run = payout_run_make(period=date(2024, 1, 1), publisher=shoes_link.publisher, amount=Decimal("80.00"))
    return {"conversion": conversion, "run": run, "payout": run.payouts.get()}


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.mark.parametrize("url", PUBLISHER_PAGES + ADVERTISER_PAGES + STAFF_PAGES + SHARED_PAGES)
def test_a_signed_out_visitor_is_sent_to_log_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize(
    ("persona", "allowed", "denied"),
    [
        ("pia", PUBLISHER_PAGES + SHARED_PAGES, ADVERTISER_PAGES + STAFF_PAGES),
        ("ada", ADVERTISER_PAGES + SHARED_PAGES, PUBLISHER_PAGES + STAFF_PAGES),
        ("nadia", STAFF_PAGES + SHARED_PAGES, PUBLISHER_PAGES + ADVERTISER_PAGES),
    ],
)
def test_each_role_opens_its_own_pages_and_gets_404_on_the_others(world, request, persona, allowed, denied):
    client = client_for(request.getfixturevalue(persona))
    for url in allowed:
        assert client.get(url).status_code == 200, url
    for url in denied:
        assert client.get(url).status_code == 404, url


def test_a_user_without_a_tenant_sees_no_portal_page(db):
    client = client_for(f.UserFactory(username="loner"))
    for url in PUBLISHER_PAGES + ADVERTISER_PAGES + STAFF_PAGES:
        assert client.get(url).status_code == 404, url


def test_another_publishers_conversion_link_and_statement_are_not_found(world, rex, shoes_link):
    client = client_for(rex)
    assert client.get(f"/conversions/{world['conversion'].pk}/").status_code == 404
    assert client.get(f"/publisher/my-offers/{shoes_link.pk}/").status_code == 404
    assert client.get(f"/publisher/payouts/{world['payout'].pk}/statement.csv").status_code == 404
    assert client.get(f"/publisher/payouts/{world['payout'].pk}/statement.pdf").status_code == 404
    assert b"ORD-1" not in client.get("/publisher/conversions/?format=csv").getvalue()


def test_the_owning_publisher_and_advertiser_see_the_conversion(world, pia, ada, nadia):
    url = f"/conversions/{world['conversion'].pk}/"
    for user in (pia, ada, nadia):
        assert client_for(user).get(url).status_code == 200


def test_another_advertiser_cannot_open_edit_or_decide_on_acme_objects(world, gus, shoes, pixelpush):
    client = client_for(gus)
    assert client.get(f"/advertiser/offers/{shoes.pk}/").status_code == 404
    assert client.post(f"/advertiser/offers/{shoes.pk}/", {"name": "hijack"}).status_code == 404
    assert client.get(f"/conversions/{world['conversion'].pk}/").status_code == 404
    request = OfferAccess.objects.create(
        offer=f.OfferFactory(advertiser=shoes.advertiser), publisher=pixelpush
    )
    response = client.post(f"/advertiser/access/{request.pk}/decide/", {"decision": "approved"})
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.status == OfferAccess.Status.PENDING
    assert b"ORD-1" not in client.get("/advertiser/conversions/?format=csv").getvalue()


def test_a_publisher_cannot_see_a_private_offer_it_was_not_invited_to(pia, acme):
    private = f.OfferFactory(advertiser=acme, visibility="private", name="Secret Sauce")
    client = client_for(pia)
    assert client.get(f"/publisher/offers/{private.pk}/").status_code == 404
    assert b"Secret Sauce" not in client.get("/publisher/offers/").content
    assert client.post(f"/publisher/offers/{private.pk}/apply/").status_code == 404


def test_a_pending_publisher_only_reaches_the_review_page(db):
    pub = f.PublisherFactory(status="pending")
    user = f.UserFactory(username="newbie")
    pub.members.add(user)
    client = client_for(user)
    for url in PUBLISHER_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/pending/", url
    assert b"under review" in client.get("/pending/").content


def test_staff_run_progress_and_actions_are_staff_only(world, ada, pia):
    run = world["run"]
    for user in (ada, pia):
        client = client_for(user)
        assert client.get(f"/staff/payout-runs/{run.pk}/").status_code == 404
        assert client.get(f"/staff/payout-runs/{run.pk}/progress.json").status_code == 404
        assert client.post(f"/staff/payout-runs/{run.pk}/approve/").status_code == 404
