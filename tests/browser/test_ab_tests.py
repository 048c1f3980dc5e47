"""An A/B test in Chromium: the advertiser writes a test of two landing pages with the weekly
preset and starts it, real visitors arrive through the edge and keep their variant, the big-hero
page converts far better, a look declares it the winner, and the advertiser promotes it with
one click: the other page is paused and every later click goes to the winner."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payouts.experiments.rollup import ab_rollup_refresh
from tests.browser.conftest import DESKTOP_UA, login, postback_real, stream_drain
from tracking.models import AbTest, AbVariant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HERO = "https://shoes.example.com/hero?cid={click_id}"


def _new_visitor_click(edge: Any, token: str, n: int) -> tuple[str, str]:
    """A new visitor's click (no cookies, an address of its own): (page path, click id)."""
    edge.cookies = SimpleCookie()
    response = edge.get(
        f"/c/{token}", REMOTE_ADDR=f"8.8.{n // 250}.{n % 250 + 1}", HTTP_USER_AGENT=DESKTOP_UA
    )
    assert response.status_code == 302
    location = response["Location"]
    match = re.search(r"cid=([A-Za-z0-9_-]+)", location)
    assert match is not None, location
    return ("hero" if "/hero?" in location else "current"), match.group(1)


def test_an_ab_test_declares_a_winner_and_the_advertiser_promotes_it(
    page, edge, shot, ada, shoes, shoes_link
):
    page.context.set_default_timeout(60_000)  # two cores shared with other suites: be patient
    login(page, "ada")
    page.get_by_role("link", name="A/B tests").click()
    expect(page.get_by_text("No tests yet")).to_be_visible()
    page.get_by_role("link", name="New test").click()
    page.get_by_label("Offer", exact=True).select_option(str(shoes.pk))
    page.get_by_label("Name", exact=True).fill("Bigger hero")
    page.get_by_label("Hypothesis").fill(
        "A bigger hero image shows the shoe better and converts more visitors."
    )
    page.get_by_label("Min sample").fill("50")
    page.get_by_label("Max sample").fill("2000")
    expect(page.get_by_label("Weekly preset")).to_be_checked()
    page.get_by_label("Variant 1 label").fill("Current page")
    page.get_by_label("Variant 2 label").fill("Big hero")
    page.get_by_label("Variant 2 landing URL").fill(HERO)
    shot("new-test")
    page.get_by_role("button", name="Save test").click()
    expect(page.get_by_role("heading", name="Bigger hero")).to_be_visible()
    page.get_by_role("button", name="Start test").click()
    expect(page.get_by_text("Test started: the offer's clicks are split")).to_be_visible()
    test = AbTest.objects.get()
    assert (test.status, test.max_looks, test.keep_winner_days) == ("running", 7, 30)

    # New visitors split between the pages; a returning one keeps theirs.
    hits: dict[str, list[str]] = {"current": [], "hero": []}
    n = 0
    while min(len(v) for v in hits.values()) < 55:
        kind, click_id = _new_visitor_click(edge, shoes_link.token, n)
        hits[kind].append(click_id)
        n += 1
        assert n < 400
    again = edge.get(f"/c/{shoes_link.token}", REMOTE_ADDR="8.8.9.9", HTTP_USER_AGENT=DESKTOP_UA)["Location"]
    assert ("/hero?" in again) == (kind == "hero")  # the last visitor, back: same page
    stream_drain()
    for i, click_id in enumerate(hits["hero"][:20]):
        assert postback_real(edge, click_id, goal="lead", txn_id=f"H-{i}")["result"] == "accepted"
    postback_real(edge, hits["current"][0], goal="lead", txn_id="C-1")
    today = timezone.now().date()
    ab_rollup_refresh(first=today, last=today)  # what beat does every hour

    page.get_by_role("button", name="Look now").click()
    expect(page.get_by_text("Look taken: a winner is clear.")).to_be_visible()
    variants = page.get_by_role("table", name="Variants")
    expect(variants.get_by_text("significant")).to_be_visible()
    expect(page.locator("strong.winner")).to_have_text("Big hero")
    shot("winner-declared")

    page.get_by_role("button", name="Promote the winner").click()
    expect(page.locator(".flash-success")).to_contain_text("Big hero promoted: it takes every click")
    expect(page.get_by_role("table", name="Decisions")).to_contain_text("Winner promoted: Big hero")
    shot("winner-promoted")
    assert AbVariant.objects.get(label="Current page").status == AbVariant.Status.PAUSED
    assert AbTest.objects.get().status == AbTest.Status.DECIDED
    for m in range(5):  # every new visitor now gets the winner
        assert _new_visitor_click(edge, shoes_link.token, 1000 + m)[0] == "hero"
