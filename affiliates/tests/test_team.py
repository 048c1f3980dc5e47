"""Teams and staff roles through the API: invite by e-mail (read from the outbox), accept, roles
and their limits, the last owner, account managers' scoping, and the audit log of each change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from affiliates.core.audit import AuditEntry
from affiliates.models import Advertiser, Offer, Publisher
from affiliates.team_models import AdvertiserMember, StaffMember, StaffRole, TeamRole
from affiliates.tests import factories as f

pytestmark = pytest.mark.django_db


def invite_and_accept(api: APIClient, email: str, role: str, capture: Any, query: str = "") -> APIClient:
    """Invite ``email`` through the API, follow the e-mailed link's token, accept with a
    password; a client signed in as the new member."""
    with capture(execute=True):
        created = api.post(f"/api/v1/team/invites/{query}", {"email": email, "role": role}, format="json")
    assert created.status_code == 201, created.content
    [message] = [m for m in mail.outbox if m.to == [email]]
    token = re.search(r"/team/accept/([A-Za-z0-9_-]+)/", message.body)
    assert token is not None, message.body
    accepted = APIClient().post(
        "/api/v1/team/invites/accept/",
        {"token": token.group(1), "password": "a-long-pass-phrase-9"},
        format="json",
    )
    assert accepted.status_code == 201, accepted.content
    client = APIClient()
    assert client.login(username=email, password="a-long-pass-phrase-9")
    return client


def test_an_owner_invites_an_analyst_who_can_read_but_not_change_an_offer(
    api_as: Any, ada: Any, shoes: Offer, django_capture_on_commit_callbacks: Any
) -> None:
    analyst = invite_and_accept(
        api_as(ada), "ana@acme.test", TeamRole.ANALYST, django_capture_on_commit_callbacks
    )
    assert AdvertiserMember.objects.get(user__username="ana@acme.test").role == TeamRole.ANALYST
    assert analyst.get(f"/api/v1/offers/{shoes.pk}/").status_code == 200
    edit = analyst.patch(f"/api/v1/offers/{shoes.pk}/", {"name": "Hijacked"}, format="json")
    assert edit.status_code == 403
    assert (
        analyst.post("/api/v1/api-keys/", {"name": "mine"}, format="json").json()["code"]
        == "role_not_allowed"
    )
    invite = analyst.post("/api/v1/team/invites/", {"email": "x@acme.test", "role": "owner"}, format="json")
    assert (invite.status_code, invite.json()["code"]) == (403, "role_not_allowed")
    shoes.refresh_from_db()
    assert shoes.name != "Hijacked"


def test_a_spent_invitation_cannot_be_used_twice(
    api_as: Any, ada: Any, django_capture_on_commit_callbacks: Any
) -> None:
    invite_and_accept(api_as(ada), "mo@acme.test", TeamRole.MANAGER, django_capture_on_commit_callbacks)
    token = re.search(r"/team/accept/([A-Za-z0-9_-]+)/", mail.outbox[-1].body)
    assert token is not None
    again = APIClient().post(
        "/api/v1/team/invites/accept/",
        {"token": token.group(1), "password": "another-pass-phrase-9"},
        format="json",
    )
    assert (again.status_code, again.json()["code"]) == (404, "invite_invalid")


def test_a_manager_runs_offers_but_not_the_team(
    api_as: Any, acme: Advertiser, shoes: Offer, django_capture_on_commit_callbacks: Any
) -> None:
    manager = f.UserFactory(username="manny")
    AdvertiserMember.objects.create(advertiser=acme, user=manager, role=TeamRole.MANAGER)
    api = api_as(manager)
    assert api.patch(f"/api/v1/offers/{shoes.pk}/", {"name": "Autumn"}, format="json").status_code == 200
    refused = api.post("/api/v1/team/invites/", {"email": "y@acme.test", "role": "analyst"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "role_not_allowed")


def test_the_last_owner_cannot_leave_be_removed_or_be_demoted(
    api_as: Any, ada: Any, acme: Advertiser, nadia: Any
) -> None:
    api = api_as(ada)
    leave = api.delete(f"/api/v1/team/members/{ada.pk}/")
    assert (leave.status_code, leave.json()["code"]) == (409, "last_owner")
    demote = api.patch(f"/api/v1/team/members/{ada.pk}/", {"role": "analyst"}, format="json")
    assert (demote.status_code, demote.json()["code"]) == (409, "last_owner")
    removed = api_as(nadia).delete(f"/api/v1/team/members/{ada.pk}/?advertiser={acme.pk}")
    assert (removed.status_code, removed.json()["code"]) == (409, "last_owner")
    # With a second owner, the first may step down and leave.
    olga = f.UserFactory(username="olga")
    AdvertiserMember.objects.create(advertiser=acme, user=olga, role=TeamRole.OWNER)
    assert api.patch(f"/api/v1/team/members/{ada.pk}/", {"role": "analyst"}, format="json").status_code == 200
    assert api_as(ada).delete(f"/api/v1/team/members/{ada.pk}/").status_code == 204
    assert list(acme.members.all()) == [olga]


def test_every_team_change_is_in_the_audit_log(
    api_as: Any, ada: Any, acme: Advertiser, django_capture_on_commit_callbacks: Any
) -> None:
    invite_and_accept(api_as(ada), "al@acme.test", TeamRole.ANALYST, django_capture_on_commit_callbacks)
    member = AdvertiserMember.objects.get(user__username="al@acme.test")
    api_as(ada).patch(f"/api/v1/team/members/{member.user_id}/", {"role": "read_only"}, format="json")
    api_as(ada).delete(f"/api/v1/team/members/{member.user_id}/")
    entries = AuditEntry.objects.filter(
        advertiser_id=acme.pk, content_type__model__in=["advertisermember", "teaminvite"]
    )
    kinds = sorted((e.content_type.model, e.action) for e in entries)
    A = AuditEntry.Action
    assert ("teaminvite", A.CREATE) in kinds
    assert kinds.count(("advertisermember", A.CREATE)) == 1
    assert ("advertisermember", A.UPDATE) in kinds
    assert ("advertisermember", A.DELETE) in kinds
    log = api_as(ada).get("/api/v1/audit-log/").json()["results"]
    assert any(row["object_type"] == "advertiser team member" for row in log)


def test_another_tenants_team_is_not_found(api_as: Any, gus: Any, acme: Advertiser, ada: Any) -> None:
    # A member always sees its own team, whatever it names; staff of another scope: 404.
    rows = api_as(gus).get(f"/api/v1/team/members/?advertiser={acme.pk}").json()
    assert [r["username"] for r in rows] == ["gus"]
    manager = f.UserFactory(username="am", is_staff=True)
    StaffMember.objects.create(user=manager, role=StaffRole.ACCOUNT_MANAGER)
    assert api_as(manager).get(f"/api/v1/team/members/?advertiser={acme.pk}").status_code == 404


def test_admins_set_staff_roles_and_assign_account_managers_who_see_only_theirs(
    api_as: Any, nadia: Any, acme: Advertiser, globex: Advertiser, pixelpush: Publisher, rival: Publisher
) -> None:
    sam = f.UserFactory(username="sam", is_staff=True)
    admin = api_as(nadia)
    assert (
        admin.put(f"/api/v1/staff-roles/{sam.pk}/", {"role": "account_manager"}, format="json").status_code
        == 200
    )
    for body in ({"manager": sam.pk, "advertiser": acme.pk}, {"manager": sam.pk, "publisher": rival.pk}):
        assert admin.post("/api/v1/account-assignments/", body, format="json").status_code == 201
    roles = {r["username"]: r for r in admin.get("/api/v1/staff-roles/").json()}
    assert roles["sam"]["role"] == "account_manager"
    assert (roles["sam"]["advertisers"], roles["sam"]["publishers"]) == ([acme.pk], [rival.pk])

    am = api_as(sam)
    assert [a["name"] for a in am.get("/api/v1/advertisers/").json()["results"]] == [acme.name]
    assert [p["name"] for p in am.get("/api/v1/publishers/").json()["results"]] == [rival.name]
    assert am.get(f"/api/v1/advertisers/{globex.pk}/").status_code == 404
    assert am.get(f"/api/v1/publishers/{pixelpush.pk}/").status_code == 404
    refused = am.put(f"/api/v1/staff-roles/{sam.pk}/", {"role": "admin"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "role_not_allowed")
    changed = AuditEntry.objects.filter(content_type__model__in=["staffmember", "accountassignment"])
    assert changed.count() == 3
    assert all(e.actor_id == nadia.pk for e in changed)


def test_read_only_staff_read_everything_and_write_nothing(
    api_as: Any, shoes: Offer, acme: Advertiser
) -> None:
    viewer = f.UserFactory(username="vera", is_staff=True)
    StaffMember.objects.create(user=viewer, role=StaffRole.READ_ONLY)
    api = api_as(viewer)
    assert api.get(f"/api/v1/offers/{shoes.pk}/").status_code == 200
    assert api.patch(f"/api/v1/offers/{shoes.pk}/", {"name": "No"}, format="json").status_code == 403
    fx = api.post("/api/v1/fx-rates/", {"base": "EUR", "quote": "USD", "rate": "1.1"}, format="json")
    assert (fx.status_code, fx.json()["code"]) == (403, "role_not_allowed")


def test_an_account_manager_creates_offers_only_for_their_advertisers(
    api_as: Any, acme: Advertiser, globex: Advertiser, shoes: Offer
) -> None:
    manager = f.UserFactory(username="am", is_staff=True)
    StaffMember.objects.create(user=manager, role=StaffRole.ACCOUNT_MANAGER)
    manager.account_assignments.create(advertiser=acme)
    api = api_as(manager)
    offer = {
        "name": "Boots",
        "landing_url": "https://shop.example.com/?c={click_id}",
        "goals": [{"code": "sale", "name": "Sale", "payout_type": "cpa", "payout": "5", "revenue": "8"}],
    }
    assert api.post("/api/v1/offers/", {**offer, "advertiser": acme.pk}, format="json").status_code == 201
    foreign = api.post("/api/v1/offers/", {**offer, "advertiser": globex.pk}, format="json")
    assert foreign.status_code == 400  # globex does not exist for them, like a missing id
    assert api.patch(f"/api/v1/offers/{shoes.pk}/", {"name": "Acme Autumn"}, format="json").status_code == 200
    assert Offer.objects.filter(advertiser=globex).count() == 0
