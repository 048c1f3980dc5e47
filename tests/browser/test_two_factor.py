"""A publisher turns on two-factor authentication in Chromium (QR code, code from the app,
recovery codes), logs in again with a TOTP code, and manages API keys; the pages raise no
Content-Security-Policy violation (the QR code is inline SVG, no script)."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from affiliates.credentials import ApiKey
from tests.browser.conftest import PASSWORD, login
from tests.browser.test_csp import LISTEN, violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_publisher_enrols_in_2fa_and_logs_in_again_with_a_totp_code(page, shot, pia, pixelpush):
    console: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda msg: console.append(msg.text))
    login(page, "pia")
    page.get_by_role("link", name="Security").click()
    shot("off")
    page.get_by_role("link", name="Set up two-factor authentication").click()
    assert page.locator(".qr svg").is_visible()
    secret = page.get_by_label("Secret key").input_value().replace(" ", "")
    shot("setup")
    device = TOTPDevice.objects.get(user=pia, confirmed=False)
    assert secret in device.config_url

    page.get_by_label("Code from the app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Two-factor authentication is on").is_visible()
    shown = page.locator(".recovery-codes li").all_inner_texts()
    stored = StaticToken.objects.filter(device__user=pia).values_list("token", flat=True)
    assert sorted(shown) == sorted(stored)
    assert len(shown) == 10
    shot("recovery-codes")
    assert violations(page, console) == []

    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Email or username").fill("pia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/account/two-factor/verify/"))
    shot("code-prompt")
    # The code of the next 30-second step: the one used to enrol cannot be replayed, and the
    # device accepts one step of drift.
    page.get_by_label("Code").fill(f"{totp(device.bin_key, drift=1):06d}")
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/publisher/$"))

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Nightly report sync")
    page.get_by_label("Read-only (GET requests only)").check()
    page.get_by_role("button", name="Create key").click()
    page.wait_for_load_state()
    key = page.get_by_label("New API key").input_value()
    row = ApiKey.objects.get(user=pia)
    assert key.startswith(row.prefix)
    assert row.read_only
    shot("api-key-created")
    page.goto("/account/api-keys/")
    assert key not in page.content()
    page.get_by_role("button", name="Revoke Nightly report sync").click()
    expect(page.get_by_text("stops working at once")).to_be_visible()
    page.get_by_label("I understand what this will do").check()
    page.get_by_role("button", name="Revoke key").click()
    page.wait_for_load_state()
    assert page.get_by_text("is revoked").is_visible()
    shot("api-key-revoked")
    assert violations(page, console) == []
