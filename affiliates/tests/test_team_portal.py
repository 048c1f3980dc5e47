"""The Team page and the staff users page: the portal asks affiliates.roles as the API does."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from affiliates.models import Advertiser, Offer
from affiliates.team_models import AdvertiserMember, StaffMember, StaffRole, TeamInvite, TeamRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db


def test_an_owner_invites_from_the_team_page_and_the_invitation_is_emailed(
    client: Any, ada: Any, acme: Advertiser, django_capture_on_commit_callbacks: Any
) -> None:
    sign_in(client, ada)
    assert b"Team of Acme Shoes" in client.get("/account/team/").content
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/account/team/invite/", {"email": "Rae@Acme.test", "role": "read_only"})
    assert sent.status_code == 302
    invite = TeamInvite.objects.get(advertiser=acme)
    assert (invite.email, invite.role) == ("rae@acme.test", TeamRole.READ_ONLY)
    [message] = mail.outbox
    assert message.to == ["rae@acme.test"]
    assert "/team/accept/" in message.body
    assert message.alternatives  # the HTML part beside the plain text


def test_an_analyst_is_refused_saving_an_offer_and_inviting(
    client: Any, acme: Advertiser, shoes: Offer
) -> None:
    analyst = f.UserFactory(username="ana")
    AdvertiserMember.objects.create(advertiser=acme, user=analyst, role=TeamRole.ANALYST)
    sign_in(client, analyst)
    saved = client.post(f"/advertiser/offers/{shoes.pk}/", {"name": "Hijacked"})
    assert saved.status_code == 403
    assert b'data-refused="role_not_allowed"' in saved.content
    invited = client.post("/account/team/invite/", {"email": "x@acme.test", "role": "owner"})
    assert invited.status_code == 403
    assert not TeamInvite.objects.exists()
    page = client.get("/account/team/")
    assert b"Invite someone" not in page.content  # the page offers only what the role may do


def test_staff_see_a_partners_team_only_in_their_scope(
    client: Any, acme: Advertiser, globex: Advertiser
) -> None:
    manager = f.UserFactory(username="am", is_staff=True)
    StaffMember.objects.create(user=manager, role=StaffRole.ACCOUNT_MANAGER)
    manager.account_assignments.create(advertiser=acme)
    sign_in(client, manager)
    assert client.get(f"/account/team/?advertiser={acme.pk}").status_code == 200
    assert client.get(f"/account/team/?advertiser={globex.pk}").status_code == 404
    assert client.get("/account/team/").status_code == 404  # staff name the account


def test_read_only_staff_cannot_set_roles_on_the_users_page(client: Any, nadia: Any) -> None:
    viewer = f.UserFactory(username="vera", is_staff=True)
    StaffMember.objects.create(user=viewer, role=StaffRole.READ_ONLY)
    sign_in(client, viewer)
    listing = client.get("/staff/users/")
    assert b"Staff: read-only" in listing.content
    assert b"Set the role of" not in listing.content
    refused = client.post(f"/staff/users/{nadia.pk}/role/", {"role": "read_only"})
    assert refused.status_code == 403
    sign_in(client, nadia)
    assert client.post(f"/staff/users/{viewer.pk}/role/", {"role": "finance"}).status_code == 302
    assert StaffMember.objects.get(user=viewer).role == StaffRole.FINANCE
