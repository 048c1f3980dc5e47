"""Portal pages, the admin and the API docs load in Chromium with no Content-Security-Policy
violation: nothing they need is refused by the policy (tests/test_content_security_policy.py
checks the header itself)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page reports, whether or not the console shows it.
LISTEN = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


def violations(page, console: list[str]) -> list[str]:
    return page.evaluate("window.__csp") + [m for m in console if "Content Security Policy" in m]


@pytest.fixture
def watched(page):
    console: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda msg: console.append(msg.text))
    return page, console


@pytest.fixture
def banner(shoes_link):
    shoes_link.offer.creatives.create(
        name="Summer 300x250", kind="banner", image_url="https://cdn.example.com/b.png", width=300, height=250
    )
    return shoes_link


def test_portal_pages_load_with_no_policy_violation(watched, pia, nadia, banner):
    page, console = watched
    page.goto("/login/")
    assert violations(page, console) == []
    login(page, "pia")
    for url in ["/publisher/", "/publisher/offers/", f"/publisher/my-offers/{banner.pk}/"]:
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("networkidle")
        assert violations(page, console) == [], url
    login(page, "nadia")
    for url in ["/staff/", "/staff/lockouts/", "/admin/", "/api/docs/"]:
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("networkidle")
        assert violations(page, console) == [], url
    # Swagger UI ran: its start-up script (a file, not inline) rendered the operations.
    assert page.locator(".opblock").count() > 0


def test_an_inline_script_is_refused_and_reported(watched, pia):
    page, console = watched
    page.goto("/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in violations(page, console))
