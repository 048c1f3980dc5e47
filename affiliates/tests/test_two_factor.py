"""Two-factor authentication (affiliates/accounts): a code after the password for whoever has it
on, required for staff (portal staff pages and the admin), optional for advertisers and
publishers; recovery codes work once; wrong codes count toward the lockout."""

from __future__ import annotations

import re
from base64 import b32decode
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from affiliates import demo
from affiliates.lockout import lockouts_current
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in, totp_code, totp_device

PASSWORD = "pass-word-123"  # the factories' password
LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit_and_no_backoff(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    # django-otp's own back-off (1 s after a wrong code) would refuse a right code typed at
    # once; the lockout is what these tests count.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def password_step(username: str, *, path: str = "/login/", ip: str = "203.0.113.20") -> Client:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(path, {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def code_step(client: Client, code: str, next_url: str = ""):
    return client.post("/account/two-factor/verify/", {"code": code, "next": next_url})


def recovery_codes_of(user) -> list[str]:
    return list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


@pytest.mark.parametrize("persona", ["pia", "ada"])
def test_advertisers_and_publishers_without_2fa_sign_in_with_their_password_alone(request, persona):
    request.getfixturevalue(persona)
    client = password_step(persona)
    home = client.get("/", follow=True)
    assert home.status_code == 200
    assert "/account/two-factor/" not in home.redirect_chain[-1][0]
    assert client.get("/api/v1/offers/").status_code == 200


@pytest.mark.parametrize("persona", ["pia", "ada", "nadia"])
def test_with_2fa_on_every_role_is_asked_for_a_code_before_any_page(request, persona):
    user = request.getfixturevalue(persona)
    device = totp_device(user)
    client = password_step(persona)
    home = "/staff/" if persona == "nadia" else ("/advertiser/" if persona == "ada" else "/publisher/")
    gated = client.get(home)
    assert gated.status_code == 302
    assert gated["Location"] == f"/account/two-factor/verify/?next={home.replace('/', '%2F')}"
    # The API does not take the half-signed-in session either.
    api = client.get("/api/v1/offers/")
    assert api.status_code in (401, 403)
    assert api.json()["code"] == "otp_required"

    wrong = code_step(client, "000000" if totp_code(device) != "000000" else "111111", home)
    assert wrong.status_code == 400
    assert b"not valid" in wrong.content
    right = code_step(client, totp_code(device), home)
    assert right.status_code == 302
    assert right["Location"] == home
    assert client.get(home).status_code == 200
    assert client.get("/api/v1/offers/").status_code == 200


def test_a_totp_code_is_not_accepted_twice(pia):
    device = totp_device(pia)
    code = totp_code(device)
    assert code_step(password_step("pia"), code).status_code == 302
    assert code_step(password_step("pia"), code).status_code == 400


def test_staff_without_a_device_are_sent_to_enrolment_for_staff_pages_and_the_admin(db):
    staff = f.UserFactory(username="sam", is_staff=True, is_superuser=True)
    client = password_step("sam")
    for path in ("/staff/", "/staff/lockouts/", "/admin/", "/admin/affiliates/offer/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/two-factor/setup/?next="), path

    page = client.get("/account/two-factor/setup/?next=/admin/")
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code, inline: no script, no external image
    assert b"<script>" not in page.content
    secret = re.search(rb'id="otp-secret" readonly value="([A-Z2-7 ]+)"', page.content).group(1)
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert secret.replace(b" ", b"").decode() in device.config_url

    done = client.post("/account/two-factor/setup/", {"code": totp_code(device), "next": "/admin/"})
    assert done.status_code == 200
    assert done["Cache-Control"] == "no-store"
    codes = recovery_codes_of(staff)
    assert len(codes) == 10
    assert all(code.encode() in done.content for code in codes)
    assert client.get("/staff/").status_code == 200
    assert client.get("/admin/").status_code == 200
    # Shown once: the management page tells how many are left, never the codes.
    manage = client.get("/account/two-factor/")
    assert b"10" in manage.content
    assert not any(code.encode() in manage.content for code in codes)


def test_the_admin_login_asks_staff_for_their_code_too(nadia):
    client = password_step("nadia", path="/admin/login/?next=/admin/")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/verify/")
    assert code_step(client, totp_code(totp_device(nadia)), "/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_session_owing_its_code_cannot_replace_the_device_through_enrolment(pia):
    totp_device(pia)
    client = password_step("pia")
    assert client.get("/account/two-factor/setup/")["Location"] == "/account/two-factor/verify/"
    assert TOTPDevice.objects.filter(user=pia).count() == 1


def test_a_publisher_turns_2fa_on_and_then_signs_in_with_a_code(pia):
    client = sign_in(Client(), pia)
    assert b"Set up two-factor" in client.get("/account/two-factor/").content
    client.get("/account/two-factor/setup/")
    device = TOTPDevice.objects.get(user=pia, confirmed=False)
    wrong = client.post("/account/two-factor/setup/", {"code": "12345"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.post("/account/two-factor/setup/", {"code": totp_code(device)}).status_code == 200
    assert TOTPDevice.objects.get(pk=device.pk).confirmed

    again = password_step("pia")
    assert again.get("/publisher/").status_code == 302
    assert code_step(again, totp_code(device)).status_code == 302
    assert again.get("/publisher/").status_code == 200


def test_a_recovery_code_works_once(pia):
    sign_in(Client(), pia)
    client = sign_in(Client(), pia)
    client.get("/account/two-factor/setup/")
    device = TOTPDevice.objects.get(user=pia, confirmed=False)
    client.post("/account/two-factor/setup/", {"code": totp_code(device)})
    code = recovery_codes_of(pia)[0]

    first = password_step("pia")
    assert code_step(first, code.upper()[:4] + " " + code.upper()[4:]).status_code == 302
    assert first.get("/publisher/").status_code == 200
    assert code not in recovery_codes_of(pia)
    assert len(recovery_codes_of(pia)) == 9

    second = password_step("pia")
    assert code_step(second, code).status_code == 400
    assert second.get("/publisher/").status_code == 302


def test_wrong_codes_lock_the_account_out_like_wrong_passwords(pia):
    device = totp_device(pia)
    client = password_step("pia")
    bad = "999999" if totp_code(device) != "999999" else "888888"
    assert [code_step(client, bad).status_code for _ in range(LIMIT - 1)] == [400] * (LIMIT - 1)
    assert code_step(client, bad).status_code in (400, 429)
    locked = code_step(client, totp_code(device))
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.content
    assert client.get("/publisher/").status_code == 302
    assert ("account", "pia") in {(lock.kind, lock.key) for lock in lockouts_current()}
    # The account is locked from another address too, at the password step.
    other = Client(REMOTE_ADDR="198.51.100.99")
    assert other.post("/login/", {"username": "pia", "password": PASSWORD}).status_code == 429


def test_new_recovery_codes_replace_the_old_ones(pia):
    device = totp_device(pia)
    client = sign_in(Client(), pia)
    StaticToken.objects.create(device=_static(pia), token="oldcode1")
    response = client.post("/account/two-factor/recovery-codes/", {"code": totp_code(device)})
    assert response.status_code == 200
    codes = recovery_codes_of(pia)
    assert len(codes) == 10
    assert "oldcode1" not in codes
    assert all(code.encode() in response.content for code in codes)


def _static(user):
    return StaticDevice.objects.create(user=user, name="old", confirmed=True)


def test_publishers_turn_2fa_off_with_a_code_but_staff_cannot(pia, nadia):
    device = totp_device(pia)
    client = sign_in(Client(), pia)
    refused = client.post("/account/two-factor/disable/", {"code": "000001"}, follow=True)
    assert TOTPDevice.objects.filter(user=pia).exists()
    assert b"not valid" in refused.content
    client.post("/account/two-factor/disable/", {"code": totp_code(device)})
    assert not TOTPDevice.objects.filter(user=pia).exists()
    assert password_step("pia").get("/publisher/").status_code == 200

    staff = sign_in(Client(), nadia)
    page = staff.post("/account/two-factor/disable/", {"code": totp_code(totp_device(nadia))}, follow=True)
    assert b"must keep two-factor" in page.content
    assert TOTPDevice.objects.filter(user=nadia, confirmed=True).exists()


def test_the_code_prompt_does_not_redirect_off_site(pia):
    device = totp_device(pia)
    client = password_step("pia")
    response = code_step(client, totp_code(device), "//evil.example/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_staff_api_tokens_work_without_a_second_factor(db, api_as):
    staff = f.UserFactory(username="robot-staff", is_staff=True)
    assert api_as(staff).get("/api/v1/offers/").status_code == 200


def test_the_demo_admin_signs_in_with_the_published_secret(db):
    out = StringIO()
    call_command("seed_demo", "--days", "0", stdout=out)
    assert demo.STAFF_TOTP_SECRET in out.getvalue()
    c = Client()
    c.post("/login/", {"username": demo.STAFF_LOGIN[0], "password": demo.STAFF_LOGIN[1]})
    assert c.get("/staff/")["Location"].startswith("/account/two-factor/verify/")
    code = f"{totp(b32decode(demo.STAFF_TOTP_SECRET)):06d}"
    assert code_step(c, code, "/staff/")["Location"] == "/staff/"
    assert c.get("/staff/").status_code == 200
