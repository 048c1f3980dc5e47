"""The permission matrix of staff roles and team roles, as affiliates.roles decides it: what each
role may do, what an account manager sees (only their accounts), and who the migration's
defaults make of existing users."""

from __future__ import annotations

from typing import Any

import pytest

from affiliates import roles
from affiliates.models import Advertiser, Offer, OfferAccess, Publisher
from affiliates.roles import Act, actor_for
from affiliates.team_models import AccountAssignment, AdvertiserMember, StaffMember, StaffRole, TeamRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db


def staff_as(role: str, username: str = "") -> Any:
    user = f.UserFactory(username=username or f"staff-{role}", is_staff=True)
    StaffMember.objects.create(user=user, role=role)
    return user


def member_of(advertiser: Advertiser, role: str) -> Any:
    user = f.UserFactory(username=f"acme-{role}")
    AdvertiserMember.objects.create(advertiser=advertiser, user=user, role=role)
    return user


# act -> the staff roles that may do it
STAFF_EXPECTED = {
    Act.MANAGE_OFFERS: {StaffRole.ADMIN, StaffRole.ACCOUNT_MANAGER},
    Act.DECIDE_COMMISSIONS: {StaffRole.ADMIN, StaffRole.ACCOUNT_MANAGER, StaffRole.FRAUD_ANALYST},
    Act.MANAGE_PAYOUTS: {StaffRole.ADMIN, StaffRole.FINANCE},
    Act.REVIEW_FRAUD: {StaffRole.ADMIN, StaffRole.FRAUD_ANALYST},
    Act.MANAGE_NETWORK: {StaffRole.ADMIN},
    Act.MANAGE_TEAM: {StaffRole.ADMIN, StaffRole.ACCOUNT_MANAGER},
    Act.MANAGE_DOMAINS: {StaffRole.ADMIN, StaffRole.ACCOUNT_MANAGER},
    Act.VIEW_AUDIT: set(StaffRole),
}
TEAM_EXPECTED = {
    Act.MANAGE_OFFERS: {TeamRole.OWNER, TeamRole.MANAGER},
    Act.DECIDE_COMMISSIONS: {TeamRole.OWNER, TeamRole.MANAGER},
    Act.MANAGE_KEYS: {TeamRole.OWNER, TeamRole.MANAGER},
    Act.MANAGE_PAYOUTS: {TeamRole.OWNER, TeamRole.MANAGER},
    Act.MANAGE_TEAM: {TeamRole.OWNER},
    Act.MANAGE_DOMAINS: {TeamRole.OWNER, TeamRole.MANAGER},
    Act.VIEW_AUDIT: {TeamRole.OWNER, TeamRole.MANAGER, TeamRole.ANALYST},
}


def test_each_staff_role_may_do_exactly_its_acts() -> None:
    for role in StaffRole:
        actor = roles.Actor(role=roles.Role.STAFF, user_id=1, staff_role=role)
        for act, allowed in STAFF_EXPECTED.items():
            assert roles.role_allows(actor, act) is (role in allowed), (role, act)


def test_each_team_role_may_do_exactly_its_acts() -> None:
    for role in TeamRole:
        actor = roles.Actor(role=roles.Role.ADVERTISER, user_id=1, advertiser_id=1, team_role=role)
        for act, allowed in TEAM_EXPECTED.items():
            assert roles.role_allows(actor, act) is (role in allowed), (role, act)


def test_staff_without_a_role_row_are_admins_until_a_role_narrows_them(nadia: Any) -> None:
    # The contract's minimal flow runs "with staff credentials": a plain staff user, made
    # outside the console, may run it; a role row narrows them.
    plain = f.UserFactory(username="new-staff", is_staff=True)
    assert actor_for(plain).staff_role == StaffRole.ADMIN
    assert actor_for(nadia).staff_role == StaffRole.ADMIN
    StaffMember.objects.create(user=plain, role=StaffRole.READ_ONLY)
    plain = type(plain).objects.get(pk=plain.pk)  # a fresh user: the actor is cached on the instance
    assert actor_for(plain).staff_role == StaffRole.READ_ONLY


def test_existing_single_users_are_owners(ada: Any, pia: Any) -> None:
    assert actor_for(ada).team_role == TeamRole.OWNER
    assert actor_for(pia).team_role == TeamRole.OWNER


def test_an_account_manager_sees_only_assigned_accounts_and_their_offers(
    acme: Advertiser, globex: Advertiser, pixelpush: Publisher, rival: Publisher, shoes: Offer
) -> None:
    manager = staff_as(StaffRole.ACCOUNT_MANAGER)
    AccountAssignment.objects.create(manager=manager, publisher=pixelpush)
    actor = actor_for(manager)
    assert list(roles.visible(Advertiser.objects.all(), actor)) == []
    assert list(roles.visible(Publisher.objects.all(), actor)) == [pixelpush]
    assert list(roles.visible(Offer.objects.all(), actor)) == []
    OfferAccess.objects.create(offer=shoes, publisher=pixelpush, status="approved")
    assert list(roles.visible(Offer.objects.all(), actor)) == [shoes]  # its publisher runs it
    assert not roles.may_manage(actor, shoes)  # but acme is not theirs
    AccountAssignment.objects.create(manager=manager, advertiser=acme)
    assert list(roles.visible(Advertiser.objects.all(), actor)) == [acme]
    assert roles.may_manage(actor, shoes)
    assert not roles.may_manage(actor, globex)
    assert not roles.may_manage(actor, rival)


def test_scope_narrows_any_apps_rows_for_an_account_manager(acme: Advertiser, globex: Advertiser) -> None:
    manager = staff_as(StaffRole.ACCOUNT_MANAGER)
    AccountAssignment.objects.create(manager=manager, advertiser=globex)
    qs = roles.scope(Advertiser.objects.all(), actor_for(manager), advertiser_path="id", publisher_path=None)
    assert list(qs) == [globex]
    network_rows = roles.scope(
        Advertiser.objects.all(), actor_for(manager), advertiser_path=None, publisher_path=None
    )
    assert list(network_rows) == []
    finance = actor_for(staff_as(StaffRole.FINANCE))
    assert set(roles.scope(Advertiser.objects.all(), finance, advertiser_path="id", publisher_path=None)) == {
        acme,
        globex,
    }


def test_finance_fraud_and_read_only_staff_change_no_offer(shoes: Offer) -> None:
    for role in (StaffRole.FINANCE, StaffRole.FRAUD_ANALYST, StaffRole.READ_ONLY):
        actor = actor_for(staff_as(role))
        assert list(roles.visible(Offer.objects.all(), actor)) == [shoes]  # they read everything
        assert not roles.may_manage(actor, shoes)
        assert not roles.may_create(actor, Offer)


def test_team_analysts_and_read_only_members_change_nothing(acme: Advertiser, shoes: Offer) -> None:
    for role in (TeamRole.ANALYST, TeamRole.READ_ONLY):
        actor = actor_for(member_of(acme, role))
        assert list(roles.visible(Offer.objects.all(), actor)) == [shoes]
        assert not roles.may_manage(actor, shoes)
        assert not roles.may_create(actor, Offer)
        with pytest.raises(roles.AccountRefused) as refused:
            roles.account_check(actor, Act.MANAGE_OFFERS)
        assert refused.value.code == "role_not_allowed"
    manager = actor_for(member_of(acme, TeamRole.MANAGER))
    assert roles.may_manage(manager, shoes)
    roles.account_check(manager, Act.MANAGE_OFFERS)


def test_only_staff_admins_use_the_django_admin(client: Any, nadia: Any) -> None:
    finance = staff_as(StaffRole.FINANCE)
    sign_in(client, finance)
    assert client.get("/admin/affiliates/offer/").status_code == 302  # to the admin's login
    promoted = staff_as(StaffRole.ADMIN, username="promoted")
    sign_in(client, promoted)
    assert client.get("/admin/").status_code == 200
