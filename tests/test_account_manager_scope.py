"""An account manager sees only the advertisers and publishers assigned to them, everywhere.

Not a list of known pages: every GET list endpoint of the OpenAPI schema and every staff portal
page the URL resolver knows (no path parameters) is opened by an account manager assigned to
one advertiser and one publisher of the seeded demo network, and no name of an advertiser or
publisher outside their accounts (nor, in the API, its id in an ``advertiser`` or ``publisher``
field) may appear. The outsiders are the demo's parties with no link at all to the manager's
two: no offer, access or traffic in common, so any row naming one is a row the manager should
not see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from affiliates.models import Advertiser, OfferAccess, Publisher
from affiliates.team_models import AccountAssignment, StaffMember, StaffRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from affiliates.tracking_domains import tracking_domain_create
from tracking.models import Click

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("account_manager_scope")]
MOMENT = datetime(2024, 7, 20, 15, 30, tzinfo=UTC)
#: Not portal pages, or answered by someone else: the Django admin (tested in
#: affiliates/tests/test_admin_roles.py), the API and its docs, the edge's paths, sign-out.
NOT_PAGES = re.compile(r"^/(admin|api|healthz|c/|i/|p/|postback|logout|static)")


def _links(advertiser: Advertiser) -> set[int]:
    """The publishers with any access to, or traffic on, the advertiser's offers."""
    accessed = OfferAccess.objects.filter(offer__advertiser=advertiser).values_list("publisher_id", flat=True)
    clicked = Click.objects.filter(offer__advertiser=advertiser).values_list("publisher_id", flat=True)
    return set(accessed) | set(clicked)


@pytest.fixture(scope="module")
def world(module_db: None, django_db_blocker: Any) -> dict[str, Any]:
    """The demo at MOMENT, an account manager of Acme Outdoor and of its quietest publisher."""
    with django_db_blocker.unblock(), time_machine.travel(MOMENT, tick=False):
        call_command("seed_demo", "--clicks-per-link", "2", stdout=StringIO())
        acme = Advertiser.objects.get(name="Acme Outdoor")
        ours = _links(acme)
        publisher = min(
            Publisher.objects.filter(pk__in=ours, status="active"),
            key=lambda p: (
                len({a.offer.advertiser_id for a in OfferAccess.objects.filter(publisher=p)}),
                p.pk,
            ),
        )
        their_advertisers = set(
            OfferAccess.objects.filter(publisher=publisher).values_list("offer__advertiser_id", flat=True)
        ) | set(Click.objects.filter(publisher=publisher).values_list("offer__advertiser_id", flat=True))
        outsider_advertisers = [
            a for a in Advertiser.objects.all() if a.pk not in their_advertisers | {acme.pk}
        ]
        linked = set().union(*(_links(Advertiser.objects.get(pk=a)) for a in their_advertisers | {acme.pk}))
        outsider_publishers = [p for p in Publisher.objects.all() if p.pk not in linked | {publisher.pk}]
        manager = f.UserFactory(username="amy-manager", is_staff=True)
        StaffMember.objects.create(user=manager, role=StaffRole.ACCOUNT_MANAGER)
        AccountAssignment.objects.create(manager=manager, advertiser=acme)
        AccountAssignment.objects.create(manager=manager, publisher=publisher)
        # The demo has no tracking domains: one of each outsider kind, and one of the network's,
        # so the domain lists have rows the manager must not see.
        tracking_domain_create(
            host="trk.outsider-advertiser.example", advertiser_id=outsider_advertisers[0].pk
        )
        tracking_domain_create(host="trk.outsider-publisher.example", publisher_id=outsider_publishers[0].pk)
        tracking_domain_create(host="trk.network-default.example")
    assert outsider_advertisers, "the demo has no advertiser unrelated to the manager's"
    assert outsider_publishers, "the demo has no publisher unrelated to the manager's"
    return {
        "manager": manager,
        "names": [a.name for a in outsider_advertisers] + [p.name for p in outsider_publishers],
        "advertiser_ids": {a.pk for a in outsider_advertisers},
        "publisher_ids": {p.pk for p in outsider_publishers},
    }


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(MOMENT, tick=False):
        yield


def _names_in(text: str, names: list[str]) -> list[str]:
    return [n for n in names if n in text]


def _ids_in(data: Any, world: dict[str, Any]) -> list[str]:
    """``advertiser``/``publisher`` (or ``..._id``) fields naming an outsider, anywhere in ``data``."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            bare = key.removesuffix("_id")
            if bare in ("advertiser", "publisher") and isinstance(value, int):
                if value in world[f"{bare}_ids"]:
                    found.append(f"{key}={value}")
            else:
                found += _ids_in(value, world)
    elif isinstance(data, list):
        for item in data:
            found += _ids_in(item, world)
    return found


def _api_list_paths() -> list[str]:
    client = Client()
    schema = client.get("/api/schema/", {"format": "json"}).json()
    return sorted(p for p, ops in schema["paths"].items() if "get" in ops and "{" not in p)


def test_no_api_list_shows_an_account_manager_an_unassigned_party(
    world: dict[str, Any], frozen: None
) -> None:
    api = APIClient()
    api.force_authenticate(world["manager"])
    paths = _api_list_paths()
    assert len(paths) > 40  # the schema was read, not an empty page
    opened, leaks = 0, {}
    for path in paths:
        response = api.get(path, {"page_size": 500})
        if response.status_code != 200:
            assert response.status_code in (400, 403, 404), (path, response.status_code)
            continue
        opened += 1
        text = response.content.decode()
        data = response.json() if response["Content-Type"].startswith("application/json") else None
        found = _names_in(text, world["names"]) + _ids_in(data, world)
        if found:
            leaks[path] = found[:3]
    assert opened > 30
    assert leaks == {}


def _page_urls(resolver: URLResolver | None = None, prefix: str = "/") -> Iterator[str]:
    for pattern in (resolver or get_resolver()).url_patterns:
        route = str(pattern.pattern)
        if "<" in route or "(?P" in route:
            continue
        url = prefix + route.lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from _page_urls(pattern, url)
        elif isinstance(pattern, URLPattern) and not NOT_PAGES.match(url):
            yield url


def test_no_staff_page_shows_an_account_manager_an_unassigned_party(
    world: dict[str, Any], frozen: None
) -> None:
    client = Client()
    sign_in(client, world["manager"])
    urls = sorted(set(_page_urls()))
    assert "/staff/" in urls
    opened, leaks = 0, {}
    for url in urls:
        for query in ({}, {"format": "csv"}):
            response = client.get(url, query)
            if response.status_code != 200:
                continue
            opened += 1
            body = (
                b"".join(response.streaming_content)  # the console's CSV exports stream
                if response.streaming
                else response.content
            )
            found = _names_in(body.decode(errors="replace"), world["names"])
            if found:
                leaks[f"{url}?{'format=csv' if query else ''}"] = found[:3]
    assert opened > 20
    assert leaks == {}
