"""Advertisers, publishers, offer access and links: roles, actions and their rules."""

from __future__ import annotations

import pytest

from affiliates.models import Advertiser, OfferAccess, Publisher, token_digest
from affiliates.tests import factories as f


def test_staff_create_an_advertiser_and_see_its_token_only_once(nadia, api_as) -> None:
    client = api_as(nadia)
    created = client.post("/api/v1/advertisers/", {"name": "Initech", "currency": "EUR"}, format="json")
    assert created.status_code == 201
    body = created.json()
    advertiser = Advertiser.objects.get(pk=body["id"])
    assert advertiser.postback_token_digest == token_digest(body["postback_token"])
    assert body["hmac_secret"] == advertiser.hmac_secret
    shown = client.get(f"/api/v1/advertisers/{body['id']}/").json()
    assert "postback_token" not in shown
    assert "hmac_secret" not in shown
    assert shown["postback_token_hint"] == body["postback_token"][:6]


def test_an_advertiser_rotates_its_postback_token_and_the_old_one_stops_matching(acme, ada, api_as) -> None:
    old = Advertiser.objects.get(pk=acme.pk).postback_token_digest
    response = api_as(ada).post(f"/api/v1/advertisers/{acme.pk}/rotate_postback_token/")
    assert response.status_code == 200
    token = response.json()["postback_token"]
    acme.refresh_from_db()
    assert acme.postback_token_digest == token_digest(token) != old
    assert response.json()["postback_token_hint"] == token[:6]


def test_an_advertiser_rotates_its_hmac_secret(acme, ada, api_as) -> None:
    old = acme.hmac_secret
    response = api_as(ada).post(f"/api/v1/advertisers/{acme.pk}/rotate_hmac_secret/")
    assert response.status_code == 200
    acme.refresh_from_db()
    assert acme.hmac_secret == response.json()["hmac_secret"] != old


def test_an_advertiser_edits_itself_but_not_its_status(acme, ada, api_as) -> None:
    response = api_as(ada).patch(
        f"/api/v1/advertisers/{acme.pk}/",
        {"name": "Acme Shoes Inc", "status": "suspended", "ip_allowlist": ["203.0.113.0/24"]},
        format="json",
    )
    assert response.status_code == 200
    acme.refresh_from_db()
    assert (acme.name, acme.status, acme.ip_allowlist) == ("Acme Shoes Inc", "active", ["203.0.113.0/24"])


def test_an_advertiser_cannot_create_advertisers(ada, api_as) -> None:
    response = api_as(ada).post("/api/v1/advertisers/", {"name": "Mine too"}, format="json")
    assert response.status_code == 403


def test_a_bad_ip_allowlist_is_a_field_error(acme, nadia, api_as) -> None:
    response = api_as(nadia).patch(
        f"/api/v1/advertisers/{acme.pk}/", {"ip_allowlist": ["not-an-ip"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_cidr"
    assert "ip_allowlist" in response.json()["fields"]


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        ("pending", "approve", "active"),
        ("pending", "reject", "rejected"),
        ("active", "suspend", "suspended"),
        ("suspended", "approve", "active"),
        ("rejected", "approve", "active"),
        ("active", "approve", "active"),
    ],
)
def test_staff_move_a_publisher_through_its_statuses(nadia, api_as, start, action, end) -> None:
    publisher = f.PublisherFactory(status=start)
    response = api_as(nadia).post(f"/api/v1/publishers/{publisher.pk}/{action}/")
    assert response.status_code == 200
    publisher.refresh_from_db()
    assert response.json()["status"] == publisher.status == end
    if start != end:
        assert publisher.status_changed_by == nadia
        assert publisher.status_changed_at is not None


@pytest.mark.parametrize(("start", "action"), [("active", "reject"), ("pending", "suspend")])
def test_an_impossible_publisher_transition_is_a_conflict(nadia, api_as, start, action) -> None:
    publisher = f.PublisherFactory(status=start)
    response = api_as(nadia).post(f"/api/v1/publishers/{publisher.pk}/{action}/")
    assert response.status_code == 409
    assert response.json()["code"] == "bad_transition"
    publisher.refresh_from_db()
    assert publisher.status == start


def test_a_publisher_cannot_approve_itself(pixelpush, pia, api_as) -> None:
    Publisher.objects.filter(pk=pixelpush.pk).update(status="pending")
    response = api_as(pia).post(f"/api/v1/publishers/{pixelpush.pk}/approve/")
    assert response.status_code == 403
    pixelpush.refresh_from_db()
    assert pixelpush.status == "pending"


def test_a_publisher_edits_its_profile_and_payout_details_but_not_its_status(pixelpush, pia, api_as) -> None:
    response = api_as(pia).patch(
        f"/api/v1/publishers/{pixelpush.pk}/",
        {
            "payout_method": "sepa",
            "payout_details": {"iban": "DE89370400440532013000"},
            "status": "suspended",
        },
        format="json",
    )
    assert response.status_code == 200
    pixelpush.refresh_from_db()
    assert pixelpush.payout_method == "sepa"
    assert pixelpush.payout_details == {"iban": "DE89370400440532013000"}
    assert pixelpush.status == "active"


def test_payout_details_must_be_an_object_of_text(pixelpush, pia, api_as) -> None:
    response = api_as(pia).patch(
        f"/api/v1/publishers/{pixelpush.pk}/", {"payout_details": ["x"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_payout_details"


def test_an_advertiser_sees_only_the_public_face_of_its_publishers(
    shoes_link, ada, pixelpush, api_as
) -> None:
    client = api_as(ada)
    body = client.get(f"/api/v1/publishers/{pixelpush.pk}/").json()
    assert set(body) == {"id", "name", "status", "website"}
    response = client.patch(f"/api/v1/publishers/{pixelpush.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403


def test_a_publisher_applying_to_an_approval_offer_waits_without_a_link(shoes, rival, rex, api_as) -> None:
    response = api_as(rex).post("/api/v1/accesses/", {"offer": shoes.pk, "note": "Email list"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["token"], body["url"]) == ("pending", None, None)
    assert OfferAccess.objects.get(pk=body["id"]).note == "Email list"


def test_a_publisher_applying_to_a_public_offer_gets_its_link_at_once(acme, rival, rex, api_as) -> None:
    offer = f.OfferFactory(advertiser=acme, visibility="public")
    f.GoalFactory(offer=offer, is_default=True)
    response = api_as(rex).post("/api/v1/accesses/", {"offer": offer.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "approved"
    assert response.json()["url"].endswith(f"/c/{response.json()['token']}")


def test_the_offers_advertiser_approves_and_rejects_applications(shoes, rival, ada, api_as) -> None:
    access = f.OfferAccessFactory(offer=shoes, publisher=rival, status="pending")
    client = api_as(ada)
    approved = client.post(f"/api/v1/accesses/{access.pk}/approve/", {"note": "ok"}, format="json")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    rejected = client.post(f"/api/v1/accesses/{access.pk}/reject/", {"note": "fraud"}, format="json")
    assert rejected.json()["status"] == "rejected"
    access.refresh_from_db()
    assert (access.status, access.decided_by, access.note) == ("rejected", ada, "fraud")


def test_a_publisher_cannot_decide_its_own_application(shoes, pixelpush, pia, api_as) -> None:
    access = f.OfferAccessFactory(offer=shoes, publisher=pixelpush, status="pending")
    response = api_as(pia).post(f"/api/v1/accesses/{access.pk}/approve/")
    assert response.status_code == 403
    access.refresh_from_db()
    assert access.status == "pending"


def test_a_rejected_publisher_cannot_reapply(shoes, rival, rex, api_as) -> None:
    f.OfferAccessFactory(offer=shoes, publisher=rival, status="rejected")
    response = api_as(rex).post("/api/v1/accesses/", {"offer": shoes.pk}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "access_rejected"


def test_an_advertiser_links_a_publisher_that_applied(shoes, rival, ada, api_as) -> None:
    f.OfferAccessFactory(offer=shoes, publisher=rival, status="pending")
    response = api_as(ada).post("/api/v1/links/", {"offer": shoes.pk, "publisher": rival.pk}, format="json")
    assert response.status_code == 201
    assert OfferAccess.objects.get(offer=shoes, publisher=rival).status == "approved"


def test_links_list_only_approved_accesses(shoes, shoes_link, rival, nadia, api_as) -> None:
    pending = f.OfferAccessFactory(offer=shoes, publisher=rival, status="pending")
    ids = {row["id"] for row in api_as(nadia).get("/api/v1/links/").json()["results"]}
    assert shoes_link.pk in ids
    assert pending.pk not in ids


def test_linking_twice_keeps_the_same_token(shoes, pixelpush, nadia, api_as) -> None:
    client = api_as(nadia)
    body = {"offer": shoes.pk, "publisher": pixelpush.pk}
    first = client.post("/api/v1/links/", body, format="json").json()
    second = client.post("/api/v1/links/", body, format="json").json()
    assert first["token"] == second["token"]
    assert OfferAccess.objects.filter(offer=shoes, publisher=pixelpush).count() == 1


def test_publishers_filter_by_status_and_search(nadia, api_as) -> None:
    f.PublisherFactory(name="Coupon Cave", status="pending")
    f.PublisherFactory(name="Deal Hunter", status="active")
    client = api_as(nadia)
    pending = client.get("/api/v1/publishers/", {"status": "pending"}).json()["results"]
    assert [p["name"] for p in pending] == ["Coupon Cave"]
    found = client.get("/api/v1/publishers/", {"search": "hunter"}).json()["results"]
    assert [p["name"] for p in found] == ["Deal Hunter"]
    ordered = client.get("/api/v1/publishers/", {"ordering": "-name"}).json()["results"]
    assert [p["name"] for p in ordered] == ["Deal Hunter", "Coupon Cave"]
