"""Playwright driving Debian's Chromium against pytest-django's live server.

Screenshots of each flow step go to artifacts/screenshots/ (git-ignored), kept as test
artifacts. Playwright's sync API runs an event loop in this thread, so Django's async-safety
guard is lifted for these tests: the ORM calls here are ordinary synchronous ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
