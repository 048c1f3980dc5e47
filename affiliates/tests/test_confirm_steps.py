"""Destructive account actions confirm first (affiliates.portal.confirm): revoking an API key
and removing a team member (or leaving) show what they do, change nothing until the box is
ticked, then do it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.accounts.keys import apikey_create
from affiliates.models import Advertiser
from affiliates.team_models import AdvertiserMember, TeamRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db


def test_revoking_an_api_key_says_what_stops_then_revokes_it(pia: Any) -> None:
    made = apikey_create(user=pia, name="nightly sync", read_only=True, expires_at=None)
    client = sign_in(Client(), pia)
    url = f"/account/api-keys/{made.row.pk}/revoke/"
    asked = client.post(url)
    assert asked.status_code == 200
    body = asked.content.decode()
    assert "Revoke “nightly sync”" in body
    assert f"The key {made.row.prefix}… stops working at once" in body
    made.row.refresh_from_db()
    assert made.row.revoked_at is None
    assert client.post(url, {"confirming": "1"}).status_code == 400  # the box unticked
    made.row.refresh_from_db()
    assert made.row.revoked_at is None
    done = client.post(url, {"confirm": "yes"}, follow=True)
    assert "is revoked: it no longer works" in done.content.decode()
    made.row.refresh_from_db()
    assert made.row.revoked_at is not None


def test_another_users_key_has_no_confirm_page(pia: Any, rex: Any) -> None:
    theirs = apikey_create(user=rex, name="theirs", read_only=False, expires_at=None)
    client = sign_in(Client(), pia)
    answer = client.post(f"/account/api-keys/{theirs.row.pk}/revoke/", follow=True)
    assert "No such key." in answer.content.decode()
    assert "theirs" not in answer.content.decode()


def test_removing_a_member_confirms_then_removes(ada: Any, acme: Advertiser) -> None:
    ana = f.UserFactory(username="ana", email="ana@acme.test")
    AdvertiserMember.objects.create(advertiser=acme, user=ana, role=TeamRole.ANALYST)
    client = sign_in(Client(), ada)
    url = f"/account/team/members/{ana.pk}/remove/"
    asked = client.post(url)
    assert asked.status_code == 200
    assert "Remove ana from Acme Shoes" in asked.content.decode()
    assert "ana (ana@acme.test) loses access to Acme Shoes" in asked.content.decode()
    assert AdvertiserMember.objects.filter(user=ana).exists()
    done = client.post(url, {"confirm": "yes"}, follow=True)
    assert "Member removed." in done.content.decode()
    assert not AdvertiserMember.objects.filter(user=ana).exists()


def test_the_last_owner_is_asked_and_still_cannot_leave(ada: Any, acme: Advertiser) -> None:
    client = sign_in(Client(), ada)
    url = f"/account/team/members/{ada.pk}/remove/"
    assert "Leave Acme Shoes" in client.post(url).content.decode()
    refused = client.post(url, {"confirm": "yes"}, follow=True)
    assert AdvertiserMember.objects.filter(user=ada, advertiser=acme).exists()
    assert "owner" in refused.content.decode().lower()


def test_a_member_outside_the_team_is_not_found(ada: Any, rex: Any) -> None:
    client = sign_in(Client(), ada)
    assert client.post(f"/account/team/members/{rex.pk}/remove/").status_code == 404
