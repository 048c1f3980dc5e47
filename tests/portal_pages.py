"""Every portal page a role can open, found from the URL resolver and the pages' own links.

The accessibility sweep (tests/browser/test_accessibility.py) and the portal speed bench
(bench/portals.py) both need "every GET page, with real ids filled in". A hand list rots as
pages are added, so the list is derived: each role (signed in as production signs in, second
factor included) opens every route that takes no arguments, then follows the links and form
actions those pages show, one URL per route, until nothing new turns up. The ids are therefore
real ones the role can reach. Each route ends in one class:

- ``page``: 200 with HTML, for at least one role: swept;
- ``action``: 405 to GET (POST only);
- ``file``: 200 with something other than HTML (CSV, PDF, JSON);
- ``elsewhere``: reached only from an e-mail (a token in the URL), listed in ``ELSEWHERE``, or
  a redirect (``REDIRECTS``).

A POST-only route whose form no role is shown (no row to act on) is recognised by its 405 to a
GET with placeholder ids: the method check answers before any lookup.

``uncovered`` returns the routes in none of them: a new page that no role reaches (or whose
only entry is a link this crawl cannot see) fails the sweep until it is reachable or listed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

#: Route prefixes that are not portal pages: the admin, the API and its docs, the probes.
NOT_PORTAL = ("admin/", "api/", "healthz", "p/<int:offer_id>.gif")
#: Routes whose only entry is a link in an e-mail, with a one-time token: no crawl reaches them.
ELSEWHERE = {
    "portal:team-accept": "the invitation e-mail's link",
    "portal:password-reset-confirm": "the password-reset e-mail's link",
}
#: Routes that are not pages of their own: the root sends each role to its home.
REDIRECTS = {"portal:home": "sends each role to its home page"}
#: Files rather than pages, whose links exist only once a month has been invoiced.
FILES = {"payouts_portal:document-file": "an issued document as PDF or CSV"}
PLACEHOLDER = re.compile(r"<(?:(\w+):)?\w+>")
LOGIN = "/login/"
LINK = re.compile(r"""(?:href|action|data-[a-z-]*url)="(/[^"#]*)""")
#: "signing-in": staff who gave their password and still owe the second factor's code.
ROLES = ("anonymous", "signing-in", "publisher", "advertiser", "staff")


def route_names() -> dict[str, str]:
    """Every portal route: its name (namespace:name) -> its pattern."""
    names: dict[str, str] = {}

    def walk(patterns: list[Any], prefix: str, ns: str) -> Iterator[tuple[str, str]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = f"{ns}{p.namespace}:" if p.namespace else ns
                yield from walk(p.url_patterns, prefix + str(p.pattern), inner)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{ns}{p.name}", prefix + str(p.pattern)

    for name, route in walk(get_resolver().url_patterns, "", ""):
        if not route.startswith(NOT_PORTAL):
            names.setdefault(name, route)
    return names


def _route_of(url: str) -> str | None:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.view_name


@dataclass
class Crawl:
    """One role's reachable routes: route name -> the URL opened for it, by class."""

    role: str
    pages: dict[str, str] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def crawl(client: Client, role: str, names: dict[str, str]) -> Crawl:
    """Open each argument-free route, then one URL per route found in the pages' links."""
    result = Crawl(role=role)
    queue = [f"/{route}" for route in names.values() if "<" not in route]
    tried: set[str] = set()  # route names already opened once (any answer)
    while queue:
        url = queue.pop(0)
        name = _route_of(url)
        if name is None or name not in names or name in tried:
            continue
        tried.add(name)
        response = client.get(url)
        kind = response.get("Content-Type", "")
        if response.status_code == 405:
            result.actions[name] = url
        elif response.status_code == 200 and kind.startswith("text/html"):
            result.pages[name] = url
            body = response.content.decode()
            queue.extend(html.unescape(m) for m in LINK.findall(body))
        elif response.status_code == 200:
            result.files[name] = url
        elif response.status_code == 302 and not response["Location"].startswith(LOGIN):
            result.actions[name] = url  # a form's endpoint that sends a GET back to its page
    for name, route in names.items():  # POST-only routes whose forms this role was not shown
        if "<" in route and name not in tried:
            url = "/" + PLACEHOLDER.sub(lambda m: "0" if m.group(1) == "int" else "x", route)
            response = client.get(url)
            if response.status_code == 405 or (
                response.status_code == 302 and not response["Location"].startswith(LOGIN)
            ):
                result.actions[name] = url
    return result


def uncovered(crawls: list[Crawl], names: dict[str, str]) -> list[str]:
    seen = set(ELSEWHERE) | set(REDIRECTS) | set(FILES)
    for c in crawls:
        seen |= set(c.pages) | set(c.actions) | set(c.files)
    return sorted(f"{name} ({names[name]})" for name in names if name not in seen)


def demo_clients() -> dict[str, Client]:
    """A client per role, signed in as the demo's users (seed_demo), second factor included."""
    from django.contrib.auth import get_user_model

    from affiliates.demo import ADVERTISER_LOGIN, PUBLISHER_LOGIN, STAFF_LOGIN
    from affiliates.tests.signin import sign_in

    users = get_user_model().objects
    clients = {"anonymous": Client(), "signing-in": Client()}
    clients["signing-in"].force_login(users.get(username=STAFF_LOGIN[0]))
    for role, (username, _password) in (
        ("publisher", PUBLISHER_LOGIN),
        ("advertiser", ADVERTISER_LOGIN),
        ("staff", STAFF_LOGIN),
    ):
        clients[role] = sign_in(Client(), users.get(username=username))
    return clients


def demo_extras() -> None:
    """Rows the demo does not seed but pages show: a webhook subscription (its detail page), a
    sub-id naming template (its report) and the demo publisher's tracking domain (its verify
    and remove actions, the remove's confirm page)."""
    from affiliates.demo import PUBLISHER_LOGIN
    from affiliates.models import Advertiser, Publisher
    from affiliates.tracking_domains import tracking_domain_create
    from payouts.callbacks.webhooks import webhook_subscription_create
    from tracking.policy.services import naming_template_save

    webhook_subscription_create(
        owner="advertiser",
        advertiser=Advertiser.objects.order_by("pk").first(),
        url="https://hooks.example.com/affnet",
        events=["conversion.created"],
        name="Order system",
    )
    naming_template_save(template=None, name="Campaign names", field="sub1", pattern="{channel}-{campaign}")
    publisher = Publisher.objects.get(members__username=PUBLISHER_LOGIN[0])
    tracking_domain_create(host="trk.pixelpush-media.example", publisher_id=publisher.pk)
