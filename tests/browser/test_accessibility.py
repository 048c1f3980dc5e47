"""axe-core over every portal page, for each role, at a laptop's width and a phone's; and the
portal used by keyboard alone.

The pages come from the URL resolver (tests/portal_pages.py): every route is either swept here
for some role, answers GET with 405, a redirect or a file, or is listed with its reason; a new
page that is none of these fails the sweep. The data is the demo's (seed_demo, a short window),
so lists, charts and detail pages have real rows. One browser, one context per role; each page
is loaded once, checked at 1366 px, then resized to 390 px and checked again, where nothing may
scroll the page sideways. The phone pass leaves out color-contrast, axe's costliest rule (most
of its time): a text's colours come from the stylesheet, which has no width-dependent colours,
so the desktop pass has already measured every pair.
"""

from __future__ import annotations

from collections import Counter
from io import StringIO
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings as django_settings
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.portal_pages import ROLES, crawl, demo_clients, demo_extras, route_names, uncovered

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
EVERY_RULE: dict[str, Any] = {"resultTypes": ["violations"]}
PHONE_RULES: dict[str, Any] = {"resultTypes": ["violations"], "rules": {"color-contrast": {"enabled": False}}}
AXE_LOADED = "() => typeof window.axe !== 'undefined'"
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# portal.js re-checks its scrolling boxes on resize (a ResizeObserver): let it run first.
SETTLED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture
def demo() -> None:
    """Three days of the demo network's activity: every kind of row, in a few seconds."""
    call_command("seed_demo", "--days", "3", "--clicks-per-link", "2", stdout=StringIO())
    demo_extras()


def _violations(axe: Any, page: Any, where: str, options: dict[str, Any]) -> list[str]:
    # Axe.run() evaluates axe-core's 560 KB source before every check (about 0.1 s); a page
    # checked at two widths keeps the copy its first check loaded.
    if not page.evaluate(AXE_LOADED):
        page.evaluate(axe.axe_script)
    found = page.evaluate(f"axe.run({axe._format_script_args(context=None, options=options)})")["violations"]
    return [
        f"{where}: {v['id']} ({v['impact']}) {len(v['nodes'])}x, e.g. {v['nodes'][0]['target']}"
        for v in found
    ]


def _sweep(page: Any, axe: Any, role: str, url: str) -> list[str]:
    page.set_viewport_size(DESKTOP)
    response = page.goto(url)
    assert response is not None, (role, url)
    assert response.status == 200, (role, url)
    problems = _violations(axe, page, f"{role} {url} @1366", EVERY_RULE)
    page.set_viewport_size(PHONE)
    page.evaluate(SETTLED)
    problems += _violations(axe, page, f"{role} {url} @390", PHONE_RULES)
    overflow = page.evaluate(OVERFLOW)
    if overflow > 1:
        problems.append(f"{role} {url} @390: {overflow} px wider than the phone")
    return problems


# The sweep is split by role so that xdist spreads it over both workers (in one test it was the
# leg's longest, about a sixth of it, and when it started last the other worker sat idle).
SWEEPS = {
    "staff": ("staff",),
    "advertiser": ("advertiser",),
    "others": ("publisher", "anonymous", "signing-in"),
}


def test_every_portal_route_is_swept_for_some_role_or_classified(demo) -> None:
    """The sweeps below together open every page: each route is reached by some role's crawl
    or listed in tests/portal_pages.py with its reason."""
    names = route_names()
    clients = demo_clients()
    assert sorted(r for roles in SWEEPS.values() for r in roles) == sorted(ROLES)
    assert uncovered([crawl(clients[role], role, names) for role in ROLES], names) == []


@pytest.mark.parametrize("sweep", SWEEPS)
def test_every_portal_page_has_no_axe_violation_and_fits_a_phone(browser, live_server, demo, sweep) -> None:
    names = route_names()
    clients = demo_clients()
    crawls = [crawl(clients[role], role, names) for role in SWEEPS[sweep]]
    axe = Axe()
    problems: list[str] = []
    for c in crawls:
        context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
        session = clients[c.role].cookies.get(django_settings.SESSION_COOKIE_NAME)
        if session is not None:  # the role's signed-in session, as its crawl used it
            context.add_cookies([{"name": session.key, "value": session.value, "url": live_server.url}])
        page = context.new_page()
        for url in c.pages.values():
            problems += _sweep(page, axe, c.role, url)
        context.close()
    swept = sum(len(c.pages) for c in crawls)
    assert swept > 25, swept  # the roles' pages were reached, not a login page each
    rules = Counter(p.split(": ", 1)[1].split(" ", 1)[0] for p in problems)
    assert problems == [], (f"{swept} pages swept; by rule: {dict(rules)}", problems)


def _tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches ``selector``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} not reached in {limit} Tabs")


def _focus_ring(page: Any) -> str:
    return str(page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle"))


def test_a_publisher_skips_to_content_walks_the_menu_and_filters_offers_by_keyboard(page, pia, shoes_link):
    login(page, "pia")
    page.goto("/publisher/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0  # shown on screen while focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    page.goto("/publisher/")
    _tab_to(page, "nav[aria-label=Main] a[href='/publisher/offers/']")
    assert _focus_ring(page) != "none"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Offer marketplace")

    _tab_to(page, "input[name=q]")
    assert _focus_ring(page) != "none"
    page.keyboard.type("Summer")
    page.keyboard.press("Enter")
    page.wait_for_url("**/publisher/offers/?*q=Summer*")
    expect(page.get_by_role("heading", name="Acme Shoes - Summer Sale")).to_be_visible()
