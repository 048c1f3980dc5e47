"""A holdout test in Chromium: the advertiser starts one on its offer, real visitors click (a
random half held out and sent to the control page) and some convert, and the advertiser reads
the result in plain words, stops the test and is told in-app."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.browser.conftest import DESKTOP_UA, click_real, login, postback_real
from tracking.clickpath.holdout import holdout_arm_of
from tracking.models import Conversion, HoldoutArm, HoldoutTest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def visitors(test: HoldoutTest, arm: str, n: int) -> list[str]:
    """``n`` visitor IPs the test puts in ``arm``."""
    found = []
    for i in range(1, 250):
        ip = f"8.8.{i}.{i}"
        if holdout_arm_of(test=test, visitor=f"{ip}|{DESKTOP_UA}", at=timezone.now()) == arm:
            found.append(ip)
        if len(found) == n:
            return found
    raise AssertionError("not enough visitors")


def test_an_advertiser_starts_a_holdout_test_and_reads_its_result(
    page, shot, edge, ada, shoes, shoes_link
) -> None:
    page.set_default_timeout(90_000)  # a shared, loaded machine: pages render slowly
    login(page, "ada")
    page.goto("/holdout-tests/")
    page.get_by_role("link", name="New holdout test").click()
    page.get_by_label("Offer", exact=True).select_option(str(shoes.pk))
    page.get_by_label("Name", exact=True).fill("Does PixelPush add sales?")
    page.get_by_label("Holdout share", exact=True).fill("0.5")
    page.get_by_label("Stopping", exact=True).select_option("end_date")
    shot("holdout-form")
    page.get_by_role("button", name="Start test").click()
    page.wait_for_load_state()
    test = HoldoutTest.objects.get()
    assert page.url.endswith(f"/holdout-tests/{test.pk}/")
    assert page.get_by_text("Holdout test “Does PixelPush add sales?” started.").is_visible()

    for n, ip in enumerate(visitors(test, HoldoutArm.EXPOSED, 6)):
        edge.cookies.clear()  # each visitor their own browser
        click_id = click_real(edge, shoes_link.token, ip=ip)
        if n < 3:
            assert postback_real(edge, click_id, goal="lead", txn_id=f"E-{n}")["result"] == "accepted"
    for n, ip in enumerate(visitors(test, HoldoutArm.CONTROL, 6)):
        edge.cookies.clear()
        click_id = click_real(edge, shoes_link.token, ip=ip)
        if n < 1:
            body = postback_real(edge, click_id, goal="lead", txn_id=f"C-{n}")
            assert (body["result"], body["reason"]) == ("rejected", "holdout_control")
    assert Conversion.objects.filter(reason="holdout_control").count() == 1

    page.reload()
    result = page.get_by_role("region", name="The result in plain words")
    assert result.get_by_text("The exposed visitors converted at 50.00 % (3 of 6)").is_visible()
    assert result.get_by_text("the held-out ones at 16.67 % (1 of 6)").is_visible()
    assert result.get_by_text("The interval includes zero").is_visible()
    assert page.locator(".rel-lift").inner_text() == "+200.00 %"
    shot("holdout-result")

    page.get_by_role("button", name="Stop test").click()
    page.wait_for_load_state()
    assert page.get_by_text("The test has stopped; its result is kept below.").is_visible()
    assert HoldoutTest.objects.get().stop_reason == "manual"
    page.get_by_label("Notifications: 1 unread").click()
    assert page.get_by_text(
        "Holdout test “Does PixelPush add sales?” stopped: it was stopped by hand"
    ).is_visible()
    shot("holdout-stopped")
