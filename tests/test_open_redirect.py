"""No open redirect: every ``next=`` goes only to this site (affiliates/portal/redirects.py for
the portal's actions; Django's own check for login, logout and the admin, the same rule)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.models import OfferAccess
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # affiliates.tests.factories.UserFactory's
HOSTILE = [
    "//evil.com",
    "///evil.com",
    "https://evil.com",
    "http://evil.com/portal/",
    "/\\evil.com",
    "\\\\evil.com",
    "/\t/evil.com",
    "https:evil.com",
    "javascript:alert(document.domain)",
    " javascript:alert(1)",
    "java\nscript:alert(1)",
    "http://testserver@evil.com/",
]


def _stays_here(response: Any) -> str:
    assert response.status_code == 302, response.status_code
    location = str(response["Location"])
    assert "evil" not in location.lower()
    assert "script" not in location.lower()
    assert location.startswith("/")
    assert not location.startswith(("//", "/\\"))
    return location


def _logged_in(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.mark.parametrize("target", HOSTILE)
def test_login_sends_nobody_off_site(pia, target) -> None:
    response = Client().post("/login/", {"username": "pia", "password": PASSWORD, "next": target})
    _stays_here(response)


@pytest.mark.parametrize("target", HOSTILE)
def test_an_already_signed_in_visit_to_login_stays_here(pia, target) -> None:
    _stays_here(_logged_in(pia).get("/login/", {"next": target}))


@pytest.mark.parametrize("target", HOSTILE)
def test_logout_stays_here(pia, target) -> None:
    _stays_here(_logged_in(pia).post("/logout/", {"next": target}))


@pytest.mark.parametrize("target", HOSTILE)
def test_the_admin_login_stays_here(nadia, target) -> None:
    response = Client().post(
        f"/admin/login/?next={target}", {"username": "nadia", "password": PASSWORD, "next": target}
    )
    _stays_here(response)


@pytest.mark.parametrize("target", HOSTILE)
def test_the_access_decision_stays_here(ada, shoes, rival, target) -> None:
    access = f.OfferAccessFactory(offer=shoes, publisher=rival, status=OfferAccess.Status.PENDING)
    response = _logged_in(ada).post(
        f"/advertiser/access/{access.pk}/decide/", {"decision": "rejected", "next": target}
    )
    assert _stays_here(response) == "/advertiser/publishers/"


@pytest.mark.parametrize("target", HOSTILE)
def test_the_conversion_status_buttons_stay_here(ada, shoes_link, target) -> None:
    response = _logged_in(ada).post(
        "/advertiser/conversions/status/", {"ids": ["1"], "action": "approved", "next": target}
    )
    assert _stays_here(response) == "/advertiser/conversions/"


def test_a_next_on_this_site_is_still_followed(ada, shoes, rival) -> None:
    access = f.OfferAccessFactory(offer=shoes, publisher=rival, status=OfferAccess.Status.PENDING)
    client = _logged_in(ada)
    response = client.post(
        f"/advertiser/access/{access.pk}/decide/", {"decision": "rejected", "next": "/advertiser/?x=1"}
    )
    assert _stays_here(response) == "/advertiser/?x=1"
    response = client.post(
        "/advertiser/conversions/status/",
        {"ids": ["1"], "action": "approved", "next": "/advertiser/conversions/?page=2"},
    )
    assert _stays_here(response) == "/advertiser/conversions/?page=2"
