"""Smart links in Chromium: a publisher creates one with three paths and a catch-all, traffic
and conversions arrive through the real click and postback paths, the optimiser moves the
weights and the page shows the run; staff see it too. Screenshots: artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from affiliates.models import OfferAccess
from affiliates.tests import factories as f
from payouts.smartlinks.rollup import smart_rollup_refresh
from tests.browser.conftest import DESKTOP_UA, login, postback_real, stream_drain
from tracking.models import SmartLink, SmartRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NAMES = ("Trail Shoes", "Rain Jackets", "Tents", "Outlet")


@pytest.fixture
def smart_offers(acme: Any, pixelpush: Any) -> list[Any]:
    offers = []
    for name in NAMES:
        host = name.lower().replace(" ", "-")
        offer = f.OfferFactory(
            advertiser=acme, name=name, landing_url=f"https://{host}.example.com/?cid={{click_id}}"
        )
        f.GoalFactory(
            offer=offer, code="lead", payout_type="cpl", payout="2.00", revenue="3.00", is_default=True
        )
        f.OfferAccessFactory(offer=offer, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
        offers.append(offer)
    return offers


def _click(edge: Any, token: str, ip: str) -> tuple[str, str]:
    response = edge.get(f"/c/{token}", REMOTE_ADDR=ip, HTTP_USER_AGENT=DESKTOP_UA)
    assert response.status_code == 302
    location = response["Location"]
    match = re.search(r"cid=([A-Za-z0-9_-]+)", location)
    assert match is not None, location
    return location.split("/")[2], match.group(1)


def test_a_publisher_creates_a_smart_link_with_three_paths_and_watches_the_optimiser(
    page, edge, shot, pia, nadia, smart_offers
):
    page.context.set_default_timeout(60_000)  # two cores shared with other suites: be patient
    login(page, "pia")
    page.get_by_role("link", name="Smart links").click()
    expect(page.get_by_text("No smart links yet")).to_be_visible()
    page.get_by_role("link", name="New smart link").click()
    page.get_by_label("Name").fill("Outdoor summer")
    page.get_by_label("Mode").select_option("auto")
    page.get_by_label("Min clicks").fill("10")
    page.get_by_label("Sticky hours").fill("0")
    for n, name in enumerate(NAMES, start=1):
        page.get_by_label(f"Offer of path {n}").select_option(label=name)
        page.get_by_label(f"Weight of path {n}").fill("100")
    page.get_by_label("Countries of path 1").fill("us, ca")
    page.get_by_label("Hours of path 3").fill("0-23")
    page.get_by_label("Path 4 is the catch-all").check()
    shot("new-form")
    page.get_by_role("button", name="Create smart link").click()

    expect(page.get_by_role("heading", name="Outdoor summer")).to_be_visible()
    smart = SmartLink.objects.get()
    expect(page.get_by_text(smart.tracking_url, exact=True)).to_be_visible()
    paths = page.get_by_role("table", name="Paths")
    expect(paths.locator("tbody tr")).to_have_count(4)
    expect(paths).to_contain_text("US, CA")
    expect(paths).to_contain_text("catch-all")
    shot("created")

    # Traffic through the edge: 90 visitors spread over the three paths; the tents convert best.
    hits: dict[str, list[str]] = {}
    for i in range(90):
        host, click_id = _click(edge, smart.token, f"8.8.{i // 250}.{i % 250 + 1}")
        hits.setdefault(host, []).append(click_id)
    stream_drain()
    assert set(hits) == {"trail-shoes.example.com", "rain-jackets.example.com", "tents.example.com"}
    for n, click_id in enumerate(hits["tents.example.com"][:8]):
        assert postback_real(edge, click_id, goal="lead", txn_id=f"T-{n}")["result"] == "accepted"
    postback_real(edge, hits["trail-shoes.example.com"][0], goal="lead", txn_id="S-1")
    smart_rollup_refresh(first=smart.created_at.date(), last=smart.created_at.date())  # what beat does

    page.reload()
    expect(paths).to_contain_text("Tents")
    shot("traffic")
    page.get_by_role("button", name="Run optimiser now").click()
    expect(page.get_by_text("Optimiser ran: applied")).to_be_visible()
    run = SmartRun.objects.get(outcome=SmartRun.Outcome.APPLIED)
    tents = smart.paths.get(offer__name="Tents")
    assert run.weights_after[str(tents.pk)] > 5000  # most of the 10,000 now go to the tents
    assert min(run.weights_after[str(p.pk)] for p in smart.paths.filter(is_catch_all=False)) >= 500  # floor
    runs = page.get_by_role("table", name="Optimisation runs")
    expect(runs).to_contain_text("Applied")
    expect(runs).to_contain_text(f"#{tents.pk}: 100 → {run.weights_after[str(tents.pk)]}")
    expect(page.get_by_label(f"Weight of path {tents.pk}")).to_have_value(
        str(run.weights_after[str(tents.pk)])
    )
    shot("optimised")

    # A weight by hand is a run too.
    page.get_by_label(f"Weight of path {tents.pk}").fill("7000")
    page.get_by_role("button", name="Save weights").click()
    expect(page.locator(".flash-success")).to_contain_text("Weights saved")
    expect(runs.locator("tbody tr").first).to_contain_text("Weights set by hand")

    login(page, "nadia")
    page.get_by_role("link", name="Smart links").click()
    expect(page.get_by_role("table", name="Smart links")).to_contain_text("Outdoor summer")
    page.get_by_role("link", name="Outdoor summer").click()
    expect(page.get_by_role("columnheader", name="Revenue")).to_be_visible()  # staff see revenue
    shot("staff-view")
