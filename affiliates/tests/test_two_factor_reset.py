"""An admin resets another user's 2FA from the staff portal (admin-only, confirmed, audited, the
user told in-app); enabling or verifying 2FA and changing the password give the session a new
key, so a session id planted or seen before cannot ride along."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from affiliates.accounts import twofactor
from affiliates.core.audit import AuditEntry
from affiliates.notifications import Notification
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in, totp_code, totp_device

PASSWORD = "pass-word-123"  # the factories' password


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def sam(db):
    """Staff, not an admin."""
    user = f.UserFactory(username="sam", is_staff=True)
    totp_device(user)
    return user


def reset_url(user) -> str:
    return f"/staff/users/{user.pk}/two-factor/reset/"


def test_an_admin_confirms_then_resets_a_publishers_2fa_which_is_audited_and_told_to_the_user(nadia, pia):
    totp_device(pia, key="00" * 20)
    admin = sign_in(Client(REMOTE_ADDR="203.0.113.9"), nadia)
    listing = admin.get("/staff/users/?q=pia")
    assert listing.status_code == 200
    assert reset_url(pia).encode() in listing.content

    confirm = admin.get(reset_url(pia))
    assert confirm.status_code == 200
    assert b"Reset two-factor authentication of <strong>pia</strong>" in confirm.content
    assert TOTPDevice.objects.filter(user=pia).exists()  # a GET changes nothing
    unconfirmed = admin.post(reset_url(pia), {})
    assert unconfirmed.status_code == 400
    assert TOTPDevice.objects.filter(user=pia).exists()

    done = admin.post(reset_url(pia), {"confirm": "reset"})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=pia).exists()
    assert not StaticDevice.objects.filter(user=pia).exists()
    entry = AuditEntry.objects.get(object_id=pia.pk, content_type__model="user")
    assert entry.actor == nadia
    assert entry.remote_addr == "203.0.113.9"
    assert entry.changes == {"two_factor": ["on", "reset"]}
    note = Notification.objects.get(recipient=pia)
    assert note.title == "Your two-factor authentication was reset"
    assert "nadia" in note.body
    assert note.link == "/account/two-factor/"
    # Staff find it in the audit log's search.
    assert b"two_factor" in admin.get("/staff/audit/?object_type=user").content


def test_staff_who_are_not_admins_cannot_reset_anyones_2fa(sam, pia):
    totp_device(pia, key="00" * 20)
    client = sign_in(Client(), sam)
    assert client.get(reset_url(pia)).status_code == 403
    refused = client.post(reset_url(pia), {"confirm": "reset"})
    assert refused.status_code == 403
    assert b"admin_only" in refused.content
    assert TOTPDevice.objects.filter(user=pia).exists()
    assert not AuditEntry.objects.filter(content_type__model="user").exists()


def test_advertisers_and_publishers_cannot_reach_the_reset(ada, pia):
    totp_device(pia, key="00" * 20)
    client = Client()
    client.force_login(ada)
    assert client.post(reset_url(pia), {"confirm": "reset"}).status_code in (302, 403, 404)
    assert TOTPDevice.objects.filter(user=pia).exists()


def test_an_admin_cannot_reset_their_own_2fa_this_way(nadia):
    with pytest.raises(twofactor.DomainError) as refused:
        twofactor.twofactor_reset(user=nadia, by=nadia)
    assert refused.value.code == "otp_reset_self"


def test_a_staff_user_whose_2fa_was_reset_must_set_it_up_again(nadia, sam):
    twofactor.twofactor_reset(user=sam, by=nadia)
    client = Client()
    assert client.post("/login/", {"username": "sam", "password": PASSWORD}).status_code == 302
    gated = client.get("/staff/")
    assert gated.status_code == 302
    assert gated["Location"].startswith("/account/two-factor/setup/")


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_verifying_the_code_after_the_password_gives_the_session_a_new_key(pia):
    device = totp_device(pia, key="00" * 20)
    client = Client()
    client.post("/login/", {"username": "pia", "password": PASSWORD})
    before = session_key(client)
    assert client.post("/account/two-factor/verify/", {"code": totp_code(device)}).status_code == 302
    assert session_key(client) != before
    assert client.get("/publisher/").status_code == 200
    # The key from before the code is worth nothing now.
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = before
    assert stale.get("/publisher/").status_code == 302


def test_turning_2fa_on_gives_the_session_a_new_key(pia):
    client = Client()
    client.force_login(pia)
    before = session_key(client)
    assert client.get("/account/two-factor/setup/").status_code == 200
    device = TOTPDevice.objects.get(user=pia, confirmed=False)
    enabled = client.post("/account/two-factor/setup/", {"code": totp_code(device)})
    assert enabled.status_code == 200
    assert b"recovery" in enabled.content.lower()
    assert session_key(client) != before
    assert client.get("/publisher/").status_code == 200


def test_changing_the_password_gives_the_session_a_new_key_and_keeps_it_signed_in(pia):
    client = Client()
    client.force_login(pia)
    before = session_key(client)
    changed = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-pass-phrase-7",
            "new_password2": "a-new-pass-phrase-7",
        },
    )
    assert changed.status_code == 302
    assert session_key(client) != before
    assert client.get("/publisher/").status_code == 200
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = before
    assert stale.get("/publisher/").status_code == 302
