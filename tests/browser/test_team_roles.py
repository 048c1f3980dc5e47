"""Team and staff roles in the browser: an admin makes a staff user an account manager and
assigns them one publisher, who then sees only that publisher; an advertiser's owner invites an
analyst by e-mail, who accepts, signs in, and cannot change an offer. Screenshots kept."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from affiliates.tests import factories as f
from affiliates.tests.signin import totp_device
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_account_manager_sees_only_assigned_partners_and_an_analyst_cannot_change_an_offer(
    page, shot, nadia, ada, shoes, pixelpush, rival
):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sam = f.UserFactory(username="sam", email="sam@network.test", is_staff=True)
    totp_device(sam)  # staff sign in with a second factor

    # The admin makes sam an account manager and assigns them PixelPush only.
    login(page, "nadia")
    page.goto("/staff/users/?q=sam")
    page.get_by_label("Staff role of sam").select_option("account_manager")
    page.get_by_role("button", name="Set the role of sam").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="0 accounts").click()
    page.get_by_label("Account", exact=True).select_option(label=pixelpush.name)
    page.get_by_role("button", name="Assign").click()
    page.wait_for_load_state()
    assert page.locator(f'tr[data-account="{pixelpush.name}"]').count() == 1
    shot("assigned")

    # sam sees PixelPush among the active publishers, never Rival.
    login(page, "sam")
    page.goto("/staff/publishers/?status=active")
    table = page.locator("table.data")
    assert pixelpush.name in table.inner_text()
    assert rival.name not in table.inner_text()
    shot("account-manager-publishers")
    assert page.goto(f"/account/team/?publisher={rival.pk}").status == 404
    assert page.goto(f"/account/team/?publisher={pixelpush.pk}").status == 200

    # ada, acme's owner, invites an analyst; the invitation arrives by e-mail.
    login(page, "ada")
    page.goto("/account/team/")
    page.get_by_label("E-mail").fill("ana@acme.test")
    page.get_by_label("Role", exact=True).select_option("analyst")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_load_state()
    assert "ana@acme.test" in page.get_by_role("region", name="Open invitations").inner_text()
    shot("invited")
    [message] = [m for m in mail.outbox if m.to == ["ana@acme.test"]]
    link = re.search(r"https?://\S+/team/accept/[A-Za-z0-9_-]+/", message.body)
    assert link is not None, message.body

    # ana accepts, chooses a password and signs in as an analyst.
    page.context.clear_cookies()
    page.goto(link.group(0))
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-9")
    page.get_by_label("Password again").fill("a-long-pass-phrase-9")
    page.get_by_role("button", name="Join the team").click()
    page.wait_for_load_state()
    assert get_user_model().objects.get(username="ana@acme.test").advertisers.get() == shoes.advertiser
    login(page, "ana@acme.test", "a-long-pass-phrase-9")

    # The analyst reads the offer but saving a change is refused by the role.
    page.goto(f"/advertiser/offers/{shoes.pk}/")
    page.get_by_label("Name", exact=True).fill("Hijacked")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert page.locator('[data-refused="role_not_allowed"]').count() == 1
    shot("analyst-refused")
    shoes.refresh_from_db()
    assert shoes.name != "Hijacked"
    assert errors == []
