"""Named API keys (affiliates/accounts/keys.py): created in the portal or the API and shown once,
stored hashed, listed with their use, revoked, expiring, optionally read-only; a key acts as its
user and no more. DRF's own tokens (drf_create_token) keep working beside them."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from affiliates.accounts.keys import apikey_create
from affiliates.credentials import ApiKey
from affiliates.models import Advertiser, Offer
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db

OFFER = {
    "name": "Boots",
    "landing_url": "https://shop.example.com/?c={click_id}",
    "goals": [{"code": "sale", "name": "Sale", "payout_type": "cpa", "payout": "5", "revenue": "8"}],
}


def with_key(key: str, ip: str = "203.0.113.50") -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def portal_create(client: Client, **fields: str) -> str:
    response = client.post("/account/api-keys/", {"name": "nightly sync", **fields})
    assert response.status_code == 200, response.content
    key = response.context["created"].key
    assert key.encode() in response.content
    assert response["Cache-Control"] == "no-store"
    return key


def test_a_key_made_in_the_portal_is_shown_once_stored_hashed_and_acts_as_its_user(pia, rival):
    portal = sign_in(Client(), pia)
    key = portal_create(portal)

    row = ApiKey.objects.get(user=pia)
    stored = [str(value) for value in ApiKey.objects.filter(pk=row.pk).values().get().values()]
    assert not any(key in value for value in stored)  # not in any column, hashed or not
    assert key.startswith(row.prefix)
    listing = portal.get("/account/api-keys/")
    assert key.encode() not in listing.content
    assert row.prefix.encode() in listing.content
    assert b"nightly sync" in listing.content

    response = with_key(key).get("/api/v1/publishers/")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [pia.publishers.get().pk]


def test_a_revoked_key_is_refused_with_401_and_a_reason(pia):
    portal = sign_in(Client(), pia)
    key = portal_create(portal)
    row = ApiKey.objects.get(user=pia)
    assert portal.post(f"/account/api-keys/{row.pk}/revoke/", {"confirm": "yes"}).status_code == 302
    response = with_key(key).get("/api/v1/offers/")
    assert response.status_code == 401
    assert response.json()["code"] == "key_revoked"
    assert b"revoked" in portal.get("/account/api-keys/").content


def test_a_key_expires_at_the_end_of_its_day(pia):
    portal = sign_in(Client(), pia)
    today = timezone.now().date()
    key = portal_create(portal, expires=today.isoformat())
    row = ApiKey.objects.get(user=pia)
    assert row.expires_at.date() == today + timedelta(days=1)
    assert with_key(key).get("/api/v1/offers/").status_code == 200
    with time_machine.travel(row.expires_at + timedelta(seconds=1)):
        response = with_key(key).get("/api/v1/offers/")
    assert response.status_code == 401
    assert response.json()["code"] == "key_expired"
    past = portal.post(
        "/account/api-keys/", {"name": "old", "expires": (today - timedelta(days=1)).isoformat()}
    )
    assert past.status_code == 400
    assert ApiKey.objects.filter(user=pia).count() == 1


def test_a_read_only_key_reads_but_cannot_write(ada, acme):
    key = apikey_create(user=ada, name="dashboards", read_only=True).key
    api = with_key(key)
    assert api.get("/api/v1/offers/").status_code == 200
    refused = api.post("/api/v1/offers/", {**OFFER, "advertiser": acme.pk}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "key_read_only"
    assert not Offer.objects.filter(name="Boots").exists()
    writer = with_key(apikey_create(user=ada, name="sync").key)
    assert writer.post("/api/v1/offers/", {**OFFER, "advertiser": acme.pk}, format="json").status_code == 201


def test_a_suspended_accounts_key_is_refused_as_the_account_would_be(ada, acme):
    key = apikey_create(user=ada, name="sync").key
    Advertiser.objects.filter(pk=acme.pk).update(status=Advertiser.Status.SUSPENDED)
    refused = with_key(key).post("/api/v1/offers/", {**OFFER, "advertiser": acme.pk}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "account_suspended"


def test_a_publishers_key_cannot_do_what_the_publisher_cannot(pia, shoes):
    key = apikey_create(user=pia, name="sync").key
    response = with_key(key).patch(f"/api/v1/offers/{shoes.pk}/", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert Offer.objects.get(pk=shoes.pk).name != "Mine"


def test_last_used_is_written_at_most_once_a_minute(pia):
    new = apikey_create(user=pia, name="sync")
    api = with_key(new.key)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get("/api/v1/offers/")
        first = ApiKey.objects.get(pk=new.row.pk).last_used_at
        assert first == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        with CaptureQueriesContext(connection) as queries:
            api.get("/api/v1/offers/")
        assert not [q for q in queries.captured_queries if "UPDATE" in q["sql"] and "apikey" in q["sql"]]
        assert ApiKey.objects.get(pk=new.row.pk).last_used_at == first
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api.get("/api/v1/offers/")
        assert ApiKey.objects.get(pk=new.row.pk).last_used_at == start + timedelta(seconds=61)


def test_bad_keys_count_toward_the_lockout_but_revoked_ones_do_not(settings, pia):
    settings.AXES_FAILURE_LIMIT = 3
    new = apikey_create(user=pia, name="sync")
    ApiKey.objects.filter(pk=new.row.pk).update(revoked_at=timezone.now())
    for _ in range(4):
        assert with_key(new.key, ip="198.51.100.7").get("/api/v1/offers/").status_code == 401
    good = apikey_create(user=pia, name="good").key
    assert with_key(good, ip="198.51.100.7").get("/api/v1/offers/").status_code == 200

    guess = new.row.prefix + "x" * 43
    assert [with_key(guess, ip="198.51.100.8").get("/api/v1/offers/").status_code for _ in range(3)] == [
        401,
        401,
        401,
    ]
    locked = with_key(good, ip="198.51.100.8").get("/api/v1/offers/")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"


def test_drf_create_token_still_prints_a_working_key(pia):
    out = StringIO()
    call_command("drf_create_token", "pia", stdout=out)
    key = Token.objects.get(user=pia).key
    assert key in out.getvalue()
    assert with_key(key).get("/api/v1/offers/").status_code == 200


def test_the_api_lists_creates_and_revokes_the_callers_own_keys(api_as, pia, rex):
    api = api_as(pia)
    created = api.post("/api/v1/api-keys/", {"name": "ci", "read_only": True}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(body["prefix"])
    assert body["read_only"] is True
    assert body["status"] == "active"
    listing = api.get("/api/v1/api-keys/").json()
    assert [row["name"] for row in listing["results"]] == ["ci"]
    assert "key" not in listing["results"][0]

    rex_key = apikey_create(user=rex, name="rex's").row
    assert api.delete(f"/api/v1/api-keys/{rex_key.pk}/").status_code == 404
    assert api_as(rex).get("/api/v1/api-keys/").json()["count"] == 1

    read_only = with_key(body["key"])
    assert read_only.delete(f"/api/v1/api-keys/{body['id']}/").json()["code"] == "key_read_only"
    assert api.delete(f"/api/v1/api-keys/{body['id']}/").status_code == 204
    assert with_key(body["key"]).get("/api/v1/offers/").json()["code"] == "key_revoked"
    bad = api.post("/api/v1/api-keys/", {"name": ""}, format="json")
    assert bad.status_code == 400


def test_staff_need_a_verified_session_to_make_a_key_in_the_portal(nadia):
    half = Client(REMOTE_ADDR="203.0.113.60")
    assert half.post("/login/", {"username": "nadia", "password": "pass-word-123"}).status_code == 302
    response = half.post("/account/api-keys/", {"name": "sneaky"})
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/verify/")
    assert not ApiKey.objects.exists()
    portal_create(sign_in(Client(), nadia))
    assert ApiKey.objects.filter(user=nadia).count() == 1


def test_the_schema_documents_the_key_endpoints_and_their_errors(api_as, nadia):
    schema = api_as(nadia).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert set(paths["/api/v1/api-keys/"]) >= {"get", "post"}
    assert {"201", "400", "401", "403"} <= set(paths["/api/v1/api-keys/"]["post"]["responses"])
    assert {"204", "401", "404"} <= set(paths["/api/v1/api-keys/{id}/"]["delete"]["responses"])


def test_keys_of_other_users_are_not_listed_in_the_portal(pia, rex):
    apikey_create(user=rex, name="rex-secret-name")
    page = sign_in(Client(), pia).get("/account/api-keys/")
    assert b"rex-secret-name" not in page.content
    assert b"No keys yet" in page.content


def test_inactive_users_keys_stop_working(db):
    user = f.UserFactory(username="gone")
    key = apikey_create(user=user, name="x").key
    user.is_active = False
    user.save()
    assert with_key(key).get("/api/v1/offers/").status_code == 401


def test_staff_see_keys_in_the_admin_without_their_hash_and_revoke_them(client, nadia, pia):
    new = apikey_create(user=pia, name="leaked")
    sign_in(client, nadia)
    listing = client.get("/admin/affiliates/apikey/", {"q": "leaked"})
    assert listing.status_code == 200
    assert new.row.prefix.encode() in listing.content
    page = client.get(f"/admin/affiliates/apikey/{new.row.pk}/change/")
    assert new.row.key_hash.encode() not in page.content
    client.post("/admin/affiliates/apikey/", {"action": "apikey_revoke", "_selected_action": [new.row.pk]})
    assert with_key(new.key).get("/api/v1/offers/").json()["code"] == "key_revoked"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "   "},
        {"name": "x\x00y"},
        {"name": "x", "expires_at": "next tuesday"},
        {"name": "x", "expires_at": "2001-01-01T00:00:00Z"},
        {"name": "x", "read_only": "maybe"},
    ],
)
def test_bad_key_requests_get_a_400_with_a_reason(api_as, pia, body):
    response = api_as(pia).post("/api/v1/api-keys/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"]
    assert not ApiKey.objects.exists()


def test_revoking_a_key_id_that_is_not_a_number_is_a_404(api_as, pia):
    assert api_as(pia).delete("/api/v1/api-keys/abc/").status_code == 404
