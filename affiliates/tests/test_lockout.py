"""Brute force is locked out (django-axes, affiliates/lockout.py): portal and admin logins,
password reset, sign-up and API tokens, per IP and per account; staff see and lift the locks."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

LIMIT = 3
PASSWORD = "pass-word-123"  # the factories' password


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def client_at(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def login(client: Client, username: str, password: str, path: str = "/login/"):
    return client.post(path, {"username": username, "password": password})


def fail_logins(client: Client, username: str, times: int = LIMIT, path: str = "/login/") -> list[int]:
    return [login(client, username, "wrong-password", path).status_code for _ in range(times)]


def test_bad_logins_lock_out_the_ip_and_account_and_then_refuse_the_right_password(pia):
    client = client_at("203.0.113.7")
    assert fail_logins(client, "pia", LIMIT - 1) == [200] * (LIMIT - 1)
    locked = login(client, "pia", "wrong-password")
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.content
    assert int(locked["Retry-After"]) == 3600

    refused = login(client, "pia", PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_account_is_locked_from_every_address(pia):
    for n in range(LIMIT):
        login(client_at(f"198.51.100.{n + 1}"), "pia", "wrong-password")
    assert login(client_at("192.0.2.200"), "pia", PASSWORD).status_code == 429


def test_the_address_is_locked_for_every_account(pia, rex):
    client = client_at("203.0.113.8")
    fail_logins(client, "nobody-1", LIMIT - 1)
    fail_logins(client, "rex", 1)
    assert login(client, "pia", PASSWORD).status_code == 429
    # Another address and another account are untouched.
    assert login(client_at("203.0.113.9"), "pia", PASSWORD).status_code == 302


def test_a_good_login_under_the_limit_still_works(pia):
    client = client_at("203.0.113.10")
    fail_logins(client, "pia", LIMIT - 1)
    assert login(client, "pia", PASSWORD).status_code == 302


def test_the_admin_login_is_locked_out_too(nadia):
    client = client_at("203.0.113.11")
    statuses = fail_logins(client, "nadia", LIMIT, path="/admin/login/")
    assert statuses[-1] == 429
    refused = login(client, "nadia", PASSWORD, path="/admin/login/")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_staff_see_the_lock_and_lifting_it_lets_the_right_password_in(nadia, pia):
    client = client_at("203.0.113.12")
    fail_logins(client, "pia", LIMIT)
    staff = Client()
    sign_in(staff, nadia)
    page = staff.get("/staff/lockouts/")
    keys = {(row.kind, row.key) for row in page.context["rows"]}
    assert keys == {("ip", "203.0.113.12"), ("account", "pia")}
    assert b"Lift lock" in page.content

    # Lifting the account's lock forgets its attempts, which were all this address's too.
    staff.post("/staff/lockouts/reset/", {"kind": "account", "key": "pia"})
    assert login(client, "pia", PASSWORD).status_code == 302
    assert staff.get("/staff/lockouts/").context["rows"] == []


def test_only_staff_open_the_lockouts_page(pia):
    client = Client()
    sign_in(client, pia)
    assert client.get("/staff/lockouts/").status_code == 404
    assert client.post("/staff/lockouts/reset/", {"kind": "ip", "key": "127.0.0.1"}).status_code == 404


def test_password_reset_requests_are_limited_per_address_and_send_no_more_mail(pia):
    pia.email = "pia@pixelpush.example"
    pia.save()
    statuses = [
        client_at(f"198.51.100.{n + 1}").post("/password-reset/", {"email": "PIA@pixelpush.example"})
        for n in range(LIMIT + 1)
    ]
    assert [r.status_code for r in statuses] == [302] * LIMIT + [429]
    assert len(mail.outbox) == LIMIT
    # Reset requests do not lock the account out of logging in.
    assert login(client_at("192.0.2.1"), "pia", PASSWORD).status_code == 302


def test_password_reset_requests_are_limited_per_ip(db):
    client = client_at("203.0.113.13")
    statuses = [client.post("/password-reset/", {"email": f"u{n}@example.com"}).status_code for n in range(4)]
    assert statuses == [302] * LIMIT + [429]


def test_sign_ups_are_limited_per_ip(db):
    client = client_at("203.0.113.14")
    statuses = [
        client.post(
            "/signup/",
            {
                "company": f"Co {n}",
                "email": f"owner{n}@co.example",
                "password1": "Sunny-Meadow-2024",
                "password2": "Sunny-Meadow-2024",
            },
        ).status_code
        for n in range(LIMIT + 1)
    ]
    assert statuses == [302] * LIMIT + [429]
    assert client_at("203.0.113.15").get("/signup/").status_code == 200


def test_bad_api_tokens_lock_out_the_ip_with_a_machine_readable_answer(pia):
    good = Token.objects.create(user=pia).key
    client = APIClient(REMOTE_ADDR="203.0.113.16")
    statuses = []
    for n in range(LIMIT):
        client.credentials(HTTP_AUTHORIZATION=f"Token not-a-real-token-{n}")
        statuses.append(client.get("/api/v1/offers/").status_code)
    assert statuses == [401] * LIMIT

    client.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    refused = client.get("/api/v1/offers/")
    assert refused.status_code == 429
    assert refused.json()["code"] == "locked_out"
    assert "Too many failed attempts" in refused.json()["message"]

    elsewhere = APIClient(REMOTE_ADDR="203.0.113.17")
    elsewhere.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    assert elsewhere.get("/api/v1/offers/").status_code == 200


def test_staff_lift_an_address_lock(nadia, pia):
    client = client_at("203.0.113.18")
    fail_logins(client, "nobody-1", 1)
    fail_logins(client, "nobody-2", LIMIT - 1)
    staff = Client()
    sign_in(staff, nadia)
    rows = staff.get("/staff/lockouts/").context["rows"]
    assert [(r.kind, r.key) for r in rows] == [("ip", "203.0.113.18")]
    assert login(client, "pia", PASSWORD).status_code == 429
    staff.post("/staff/lockouts/reset/", {"kind": "ip", "key": "203.0.113.18"})
    assert login(client, "pia", PASSWORD).status_code == 302


def test_the_test_client_login_still_authenticates_without_a_request(db):
    f.UserFactory(username="plain")
    assert Client().login(username="plain", password=PASSWORD)


def test_a_completed_password_reset_lifts_the_account_lock(pia):
    pia.email = "pia@pixelpush.example"
    pia.save()
    for n in range(LIMIT):
        login(client_at(f"198.51.100.{n + 1}"), "pia", "wrong-password")
    assert login(client_at("192.0.2.7"), "pia", PASSWORD).status_code == 429
    owner = client_at("192.0.2.7")
    owner.post("/password-reset/", {"email": "pia@pixelpush.example"})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line)
    set_url = owner.get(link.split("testserver")[1], follow=True).redirect_chain[-1][0]
    done = owner.post(set_url, {"new_password1": "Brand-New-Pass-42", "new_password2": "Brand-New-Pass-42"})
    assert done.status_code == 302
    assert login(client_at("192.0.2.7"), "pia", "Brand-New-Pass-42").status_code == 302
