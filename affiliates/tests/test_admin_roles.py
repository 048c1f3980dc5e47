"""The Django admin honours staff roles: it is the network admins' tool (superusers or not),
with every model permission they need; every other staff role is kept out, to the console."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.models import Offer
from affiliates.team_models import StaffMember, StaffRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db


def staff_as(role: str) -> Any:
    user = f.UserFactory(username=f"admin-test-{role}", is_staff=True)
    StaffMember.objects.create(user=user, role=role)
    return user


def signed_in(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_a_staff_admin_who_is_not_a_superuser_lists_adds_and_changes_in_the_admin(shoes: Offer) -> None:
    admin = staff_as(StaffRole.ADMIN)
    assert not admin.is_superuser
    client = signed_in(admin)
    assert client.get("/admin/").status_code == 200
    listing = client.get("/admin/affiliates/offer/")
    assert listing.status_code == 200
    assert shoes.name in listing.content.decode()
    assert client.get("/admin/affiliates/offer/add/").status_code == 200
    assert client.get(f"/admin/affiliates/offer/{shoes.pk}/change/").status_code == 200
    assert client.get("/admin/payouts/payoutrun/").status_code == 200


@pytest.mark.parametrize(
    "role", [StaffRole.ACCOUNT_MANAGER, StaffRole.FINANCE, StaffRole.FRAUD_ANALYST, StaffRole.READ_ONLY]
)
def test_every_other_staff_role_is_kept_out_of_the_admin(shoes: Offer, role: str) -> None:
    client = signed_in(staff_as(role))
    for url in ("/admin/", "/admin/affiliates/offer/", f"/admin/affiliates/offer/{shoes.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")
    posted = client.post(f"/admin/affiliates/offer/{shoes.pk}/change/", {"name": "Renamed"})
    assert posted.status_code == 302
    shoes.refresh_from_db()
    assert shoes.name != "Renamed"


def test_an_admin_demoted_to_read_only_loses_the_admin_and_its_permissions() -> None:
    admin = staff_as(StaffRole.ADMIN)
    assert admin.has_perm("affiliates.change_offer")
    StaffMember.objects.filter(user=admin).update(role=StaffRole.READ_ONLY)
    fresh = type(admin).objects.get(pk=admin.pk)  # a new request reads the role again
    assert not fresh.has_perm("affiliates.change_offer")
    assert signed_in(fresh).get("/admin/").status_code == 302


def test_a_superuser_keeps_the_admin(nadia: Any) -> None:
    assert signed_in(nadia).get("/admin/affiliates/offer/").status_code == 200
