"""Each staff role other than admin is refused every write outside its area, everywhere.

Not a list of known endpoints: every write operation of the OpenAPI schema and every staff
portal page the URL resolver knows is tried by an account manager, finance, a fraud analyst and
a read-only user. The area of each is this test's own table (``API_AREAS``, ``PORTAL_AREAS``),
written from the issue's roles, not read from the views; what each role may do is
roles.STAFF_MAY (its matrix is tested in affiliates/tests/test_roles_matrix.py). Outside its
area a role gets 403 with ``code`` ``role_not_allowed`` (the API's JSON, the portal's refusal
page) before any object is looked up, so the ids in the URLs need not exist. A new write that
this table does not place fails the test until someone decides whose it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from affiliates.roles import STAFF_MAY, Act
from affiliates.team_models import StaffMember, StaffRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db
ROLES = [StaffRole.ACCOUNT_MANAGER, StaffRole.FINANCE, StaffRole.FRAUD_ANALYST, StaffRole.READ_ONLY]
PERSONAL = None  # one's own notifications, password, second factor: any role's

# (method or "*", path regex) -> area; the first match wins.
API_AREAS: list[tuple[str, str, Act | None]] = [
    ("*", r"^/api/v1/notification", PERSONAL),
    ("*", r"^/api/v1/team/invites/accept/$", PERSONAL),  # the invitee's own acceptance
    ("*", r"^/api/v1/api-keys/", Act.MANAGE_KEYS),
    ("*", r"^/api/v1/team/", Act.MANAGE_TEAM),
    ("*", r"^/api/v1/(staff-roles|account-assignments|network-terms|naming-templates)/", Act.MANAGE_NETWORK),
    ("*", r"^/api/v1/reports/.*/refresh/$", Act.MANAGE_NETWORK),
    ("*", r"^/api/v1/(payout-runs|payouts|fx-rates|documents|advertiser-payments)/", Act.MANAGE_PAYOUTS),
    ("*", r"^/api/v1/(list-entries|traffic)/", Act.REVIEW_FRAUD),
    ("*", r"^/api/v1/commissions/", Act.DECIDE_COMMISSIONS),
    ("*", r"^/api/v1/publishers/\{id\}/(approve|reject|suspend)/$", Act.DECIDE_SIGNUPS),
    ("*", r"^/api/v1/(accesses|links)/", Act.DECIDE_ACCESS),
    ("*", r"^/api/v1/postback-", Act.MANAGE_POSTBACKS),
    ("*", r"^/api/v1/smart-links/", Act.MANAGE_SMART_LINKS),
    ("*", r"^/api/v1/tracking-domains/", Act.MANAGE_DOMAINS),
    # Publishers record clicks; staff never do (admins get 403 publishers_only from the view).
    ("post", r"^/api/v1/clicks/$", Act.MANAGE_NETWORK),
    (
        "*",
        r"^/api/v1/(advertisers|publishers|offers|goals|caps|coupons|custom-payouts|offer-targets|ab-tests"
        r"|automation-rules|automation-firings|budget-shift|frequency-caps|holdout-tests|webhook)",
        Act.MANAGE_OFFERS,
    ),
]
PORTAL_AREAS: list[tuple[str, Act | None]] = [
    (r"^/account/(password|notifications|two-factor)", PERSONAL),
    (r"^/account/api-keys/", Act.MANAGE_KEYS),
    (r"^/account/team/", Act.MANAGE_TEAM),
    (r"^/staff/(users|lockouts)/", Act.MANAGE_NETWORK),
    (r"^/policy/templates/", Act.MANAGE_NETWORK),
    (r"^/staff/(payout-runs|documents)/", Act.MANAGE_PAYOUTS),
    (r"^/(policy/(upload|entries|caps)|staff/fraud/invalid-traffic)/", Act.REVIEW_FRAUD),
    (r"^/advertiser/conversions/status/", Act.DECIDE_COMMISSIONS),
    (r"^/staff/publishers/(\d+/decide|\d+/act)/", Act.DECIDE_SIGNUPS),
    (r"^/staff/access/\d+/decide/", Act.DECIDE_ACCESS),
    (r"^/smart-links/", Act.MANAGE_SMART_LINKS),
    (r"^/(staff/)?tracking-domains/", Act.MANAGE_DOMAINS),
    (
        r"^/(staff/(advertisers|offers|notes)|webhooks|rules|holdout-tests|ab-tests|budget-shifts)/",
        Act.MANAGE_OFFERS,
    ),
]
#: Not portal pages: the admin, the API, the edge's paths, and the public pages (sign-in, sign-up,
#: password reset, an invitation's acceptance, the root's redirect).
NOT_PORTAL = r"^/($|admin|api|p/|healthz|login|logout|signup|password-reset|pending|team/accept)"
#: A staff POST anywhere else is network administration (the gate's default): admins only.
DEFAULT_PORTAL_AREA = Act.MANAGE_NETWORK


def staff_user(role: str) -> Any:
    user = f.UserFactory(username=f"staff-{role}", is_staff=True)
    StaffMember.objects.create(user=user, role=role)
    return user


def _api_writes() -> list[tuple[str, str]]:
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    return [
        (method, path)
        for path, ops in sorted(schema["paths"].items())
        for method in ops
        if method in ("post", "put", "patch", "delete")
    ]


def _api_area(method: str, path: str) -> Act | None:
    for wanted, pattern, area in API_AREAS:
        if wanted in ("*", method) and re.search(pattern, path):
            return area
    raise AssertionError(f"{method.upper()} {path}: no area in API_AREAS; whose write is it?")


def test_every_api_write_outside_a_staff_roles_area_is_refused_with_role_not_allowed() -> None:
    writes = _api_writes()
    assert len(writes) > 80  # the schema was read
    wrong: dict[str, list[str]] = {}
    for role in ROLES:
        api = APIClient()
        api.force_authenticate(staff_user(role))
        for method, path in writes:
            area = _api_area(method, path)
            if area is None or area in STAFF_MAY[role]:
                continue  # its own area: tested by each feature's own tests
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = getattr(api, method)(url, {}, format="json")
            code = response.json().get("code") if response.status_code == 403 else None
            if code != "role_not_allowed":
                wrong.setdefault(role, []).append(f"{method.upper()} {path}: {response.status_code} {code}")
    assert wrong == {}


def _portal_urls(resolver: URLResolver | None = None, prefix: str = "/") -> Iterator[str]:
    """Every portal URL, path parameters filled with 1 (or a word for ``str`` ones)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = re.sub(r"<int:\w+>", "1", str(pattern.pattern))
        route = re.sub(r"<(str:)?(\w+)>", lambda m: "csv" if m.group(2) == "fmt" else "pause", route)
        url = prefix + route
        if isinstance(pattern, URLResolver):
            yield from _portal_urls(pattern, url)
        elif isinstance(pattern, URLPattern) and not re.match(NOT_PORTAL, url):
            yield url


def _portal_area(url: str) -> Act | None:
    for pattern, area in PORTAL_AREAS:
        if re.search(pattern, url):
            return area
    return DEFAULT_PORTAL_AREA


def test_every_portal_write_outside_a_staff_roles_area_is_refused_with_role_not_allowed() -> None:
    urls = sorted(set(_portal_urls()))
    assert "/staff/payout-runs/" in urls
    wrong: dict[str, list[str]] = {}
    refused = 0
    for role in ROLES:
        client = Client()
        sign_in(client, staff_user(role))
        for url in urls:
            area = _portal_area(url)
            if area is None or area in STAFF_MAY[role]:
                continue
            response = client.post(url, {})
            if response.status_code in (404, 405) or (
                response.status_code == 302 and "/login/" in response["Location"]
            ):
                continue  # not a staff page (another role's, or the public ones)
            if response.status_code != 403 or b"role_not_allowed" not in response.content:
                wrong.setdefault(role, []).append(f"POST {url}: {response.status_code}")
            else:
                refused += 1
    assert wrong == {}
    assert refused > 40
