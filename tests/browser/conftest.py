"""Playwright driving Debian's Chromium against pytest-django's live server.

Screenshots of each flow step go to artifacts/screenshots/ (git-ignored), kept as test
artifacts. Playwright's sync API runs an event loop in this thread, so Django's async-safety
guard is lifted while a module's browser runs (``browser``): the ORM calls in these tests are
ordinary synchronous ones. The variable is removed with the browser, so the guard is back on
for every other test the same worker runs.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

from affiliates.tests.signin import totp_code, totp_device
from conftest import ACME_POSTBACK_TOKEN
from tracking.tests.asgi_driver import EdgeClient

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pass-word-123"  # affiliates.tests.factories.UserFactory's password
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


@pytest.fixture(autouse=True)
def _isolated_hot_path(settings: Any) -> None:
    """Each test its own Redis key space for the click path, and empty in-process caches of
    links and of the postback catalog (ids are reused once the database is flushed)."""
    from tracking.clickpath import links, policy, redis_conn, smart
    from tracking.conversions.catalog import catalog_clear

    settings.CLICK_REDIS_PREFIX = f"b-{uuid.uuid4().hex[:12]}"
    links._local.clear()
    policy.policy_reset()
    smart.capped_forget()
    catalog_clear()
    redis_conn.reset()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Playwright's sync API keeps an event loop running in this
    thread for as long as it is started, so the guard is lifted exactly that long, and both end
    with the module: a test of another module that this worker runs next has neither."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser: Any, live_server: Any, settings: Any) -> Iterator[Any]:
    settings.SITE_URL = live_server.url
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1360, "height": 900}, accept_downloads=True
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


class Shots:
    """``shot("step")`` saves a full-page screenshot named after the flow and step."""

    def __init__(self, page: Any, flow: str) -> None:
        self.page, self.flow, self.n = page, flow, 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, step: str) -> Path:
        self.n += 1
        path = SCREENSHOTS / f"{self.flow}-{self.n:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(page: Any, request: Any) -> Shots:
    return Shots(page, request.node.name.removeprefix("test_")[:60])


def login(page: Any, username: str, password: str = PASSWORD) -> None:
    """The password, then, where the account has two-factor authentication on (staff always
    do), the code its phone shows now (affiliates.tests.signin)."""
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/account/two-factor/verify/" in page.url:
        user = get_user_model().objects.get(username=username)
        page.get_by_label("Code").fill(totp_code(totp_device(user)))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_load_state()


def stream_drain() -> int:
    """What ``make worker``'s click consumer does: write streamed clicks to the database.

    With Redis, /c/ answers once the click is in the Redis stream; without it (embedded mode)
    the click is already in the database and this does nothing."""
    if not django_settings.REDIS_URL:
        return 0
    from tracking.clickpath.consumer import Consumer, group_ensure

    consumer = Consumer(name="browser-tests")
    group_ensure(consumer.client)
    total = 0
    while n := consumer.step(block_ms=1):
        total += n
    return total


def reconcile() -> None:
    """What Celery beat does every minute: turn new conversions into commissions (ledger,
    publisher postbacks) and bring changed ones along."""
    from payouts.tasks import reconcile_tick

    reconcile_tick.delay()


def rollups_refresh() -> None:
    """What Celery beat does every few minutes: bring the report rollups up to date."""
    from payouts.reports.tasks import reports_rollup_refresh

    reports_rollup_refresh.delay()


def click_real(edge: EdgeClient, token: str, *, ip: str = "8.8.8.8", **query: str) -> str:
    """A visitor's click on the tracking link, answered by the edge in-process (the app
    server's path for /c/; ``live_server`` is Django's and serves the pages only); returns the
    click id handed to the landing page. Clicks from one ``ip`` are one visitor's: a repeat
    is a duplicate click, and its conversion is held for the network's review."""
    response = edge.get(f"/c/{token}?{urlencode(query)}", REMOTE_ADDR=ip, HTTP_USER_AGENT=DESKTOP_UA)
    assert response.status_code == 302, response.status_code
    match = re.search(r"cid=([A-Za-z0-9_-]+)", response["Location"])
    assert match is not None, response["Location"]
    stream_drain()
    return match.group(1)


def postback_real(edge: EdgeClient, click_id: str, **params: str) -> dict[str, Any]:
    """The advertiser's server calling /postback with its token (contract section 3), answered
    by the edge in-process, then the reconciliation tick that makes the conversion's commission."""
    query = urlencode({"click_id": click_id, **params, "token": ACME_POSTBACK_TOKEN})
    response = edge.get(f"/postback?{query}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    reconcile()
    return body
