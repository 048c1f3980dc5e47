"""The portal flows of issue 5, in a real Chromium against the live server.

1. sign-up and staff approval; 2. applying to offers and the link builder; 3. a real click on
/c/ and a real /postback, seen on the dashboard, conversions and reports (and the publisher's
postback delivered to its tracker); 4. CSV exports; 5. an offer with two goals and a test
conversion's trace; 6. approving and reversing; 7. building, approving and paying a payout run.
Clicks, postbacks, status changes, reports and payout runs go through the real services; only
``tests.portal_data`` rows (for pages that merely read) are written directly.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from affiliates.models import Goal, Offer, OfferAccess, Publisher, token_digest
from affiliates.tests import factories as f
from conftest import ACME_POSTBACK_TOKEN
from payouts.ledger import publisher_balances
from payouts.models import Commission, Payout, PayoutRun
from tests.browser.conftest import (
    DESKTOP_UA,
    click_real,
    login,
    postback_real,
    reconcile,
    rollups_refresh,
    stream_drain,
)
from tests.portal_data import conversion_make
from tracking.tests.asgi_driver import EdgeClient
from tracking.tests.factories import click_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_1_a_publisher_signs_up_and_staff_approves_them(page, shot, nadia):
    page.goto("/signup/")
    page.get_by_label("Company or brand").fill("Blue Coupons Ltd")
    page.get_by_label("Work email").fill("owner@bluecoupons.example")
    page.get_by_label("Website").fill("https://bluecoupons.example")
    page.get_by_label("How do you promote offers?").fill("Coupon site, 40k monthly US visitors.")
    page.get_by_label(re.compile("^Password")).fill("Sunny-Meadow-2024")
    page.get_by_label("Repeat password").fill("Sunny-Meadow-2024")
    shot("signup-form")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Your application is in")).to_be_visible()
    assert Publisher.objects.get(email="owner@bluecoupons.example").status == Publisher.Status.PENDING

    login(page, "owner@bluecoupons.example", "Sunny-Meadow-2024")
    expect(page).to_have_url(re.compile(r"/pending/$"))
    expect(page.get_by_role("heading", name="Application under review")).to_be_visible()
    shot("pending")

    login(page, "nadia")
    page.get_by_role("link", name="Publisher queue").click()
    expect(page.get_by_text("owner@bluecoupons.example")).to_be_visible()
    shot("staff-queue")
    page.get_by_role("button", name="Approve Blue Coupons Ltd").click()
    expect(page.get_by_text("Blue Coupons Ltd is now active.")).to_be_visible()
    assert Publisher.objects.get(email="owner@bluecoupons.example").status == Publisher.Status.ACTIVE

    login(page, "owner@bluecoupons.example", "Sunny-Meadow-2024")
    expect(page).to_have_url(re.compile(r"/publisher/$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    shot("approved-dashboard")


def test_2_the_publisher_applies_to_offers_and_builds_a_link_with_sub_ids(page, shot, pia, shoes):
    socks = f.OfferFactory(
        advertiser=shoes.advertiser, name="Acme Socks Club", category="apparel", visibility="public"
    )
    f.GoalFactory(offer=socks, code="signup", payout_type="cpl", payout=Decimal("3.00"), is_default=True)
    login(page, "pia")
    page.get_by_role("link", name="Offers", exact=True).click()
    page.get_by_label("Category").select_option("retail")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("heading", name="Acme Shoes - Summer Sale")).to_be_visible()
    expect(page.get_by_role("heading", name="Acme Socks Club")).to_have_count(0)
    shot("marketplace-filtered")
    page.get_by_role("button", name="Apply to Acme Shoes - Summer Sale").click()
    expect(page.get_by_text("Applied to Acme Shoes - Summer Sale.")).to_be_visible()
    assert OfferAccess.objects.get(offer=shoes, publisher__members=pia).status == OfferAccess.Status.PENDING

    page.get_by_label("Search").fill("socks")
    page.get_by_role("button", name="Filter").click()
    shot("marketplace-search")
    page.get_by_role("button", name="Get instant access to Acme Socks Club").click()
    expect(page.get_by_role("heading", name="Link builder")).to_be_visible()
    access = OfferAccess.objects.get(offer=socks, publisher__members=pia)
    assert access.status == OfferAccess.Status.APPROVED

    page.get_by_label("sub1").fill("spring sale")
    page.get_by_label("sub2").fill("fb-ads")
    page.get_by_label("source").fill("feed_7")
    expected = (
        f"{page.url.split('/publisher')[0]}/c/{access.token}?sub1=spring+sale&sub2=fb-ads&source=feed_7"
    )
    expect(page.get_by_label("Your tracking link")).to_have_value(expected)
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == expected
    shot("link-builder")


@pytest.fixture
def traffic(shoes_link):
    """Two clicks and one 100.00 sale (8% payout = 8.00) for pixelpush on shoes, today."""
    first = click_make(offer=shoes_link.offer, publisher=shoes_link.publisher, sub1="spring", country="US")
    click_make(offer=shoes_link.offer, publisher=shoes_link.publisher, sub1="spring", country="US")
    return conversion_make(click=first, txn_id="ORD-1001", amount=Decimal("100.00"))


def test_3_a_click_and_a_conversion_show_on_the_dashboard_and_conversions(page, shot, pia, traffic):
    # Rows written directly: the /c/ and /postback endpoints arrive with the tracking branches
    # (test_3b below goes through them).
    login(page, "pia")
    page.get_by_role("link", name="Today").click()
    expect(page.locator("[data-kpi=clicks]")).to_have_text("2")
    expect(page.locator("[data-kpi=conversions]")).to_have_text("1")
    expect(page.locator("[data-kpi=cvr]")).to_have_text("50.00%")
    expect(page.locator("[data-kpi=earnings]")).to_have_text("8.00 USD")
    # EPC keeps four places: fractions of a cent per click matter.
    expect(page.locator("[data-kpi=epc]")).to_have_text("4.0000 USD")
    expect(page.get_by_role("img", name=re.compile("Clicks and conversions per day"))).to_be_visible()
    shot("dashboard")
    page.get_by_role("link", name="Conversions").click()
    row = page.get_by_role("row").filter(has_text=f"#{traffic.pk}")
    expect(row).to_contain_text("pending")
    expect(row).to_contain_text("8.00 USD")
    shot("conversions")
    row.get_by_role("link", name=f"#{traffic.pk}").click()
    expect(page.locator("[data-trace]")).to_contain_text("last_click")
    shot("conversion-trace")


@pytest.fixture
def refund_hold(shoes):
    """Acme holds commissions 30 days (its refund period), so they stay pending until decided."""
    Offer.objects.filter(pk=shoes.pk).update(hold_days=30)


def test_3b_a_real_click_and_postback_show_on_the_dashboard_and_reports(page, edge, shot, pia, shoes_link):
    click_id = click_real(edge, shoes_link.token, sub1="spring")
    assert postback_real(edge, click_id, amount="100.00", txn_id="ORD-2001")["result"] == "accepted"
    rollups_refresh()  # what beat does every few minutes
    login(page, "pia")
    page.get_by_role("link", name="Today").click()
    expect(page.locator("[data-kpi=clicks]")).to_have_text("1")
    expect(page.locator("[data-kpi=conversions]")).to_have_text("1")
    expect(page.locator("[data-kpi=earnings]")).to_have_text("8.00 USD")
    shot("dashboard")
    page.get_by_role("link", name="Reports").click()
    page.get_by_label("Group by").select_option(["day", "sub1"])
    page.get_by_role("button", name="Run report").click()
    report = page.get_by_role("table", name="Report")
    row = report.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("spring")
    cells = row.locator("td")
    headers = report.locator("thead th").all_text_contents()
    assert cells.nth(headers.index("Clicks")).inner_text() == "1"
    assert cells.nth(headers.index("Conversions")).inner_text() == "1"
    assert cells.nth(headers.index("CVR")).inner_text() == "100.00%"
    assert cells.nth(headers.index("Payout")).inner_text() == "8.00"
    expect(page.get_by_role("img", name=re.compile("Clicks and conversions per day"))).to_be_visible()
    shot("reports")


def test_3c_the_publishers_postback_is_test_fired_delivered_logged_and_re_sent(
    page, edge, shot, pia, shoes_link, refund_hold, settings
):
    from payouts.tests.callback_server import local_server

    with local_server() as tracker:
        login(page, "pia")
        page.get_by_role("link", name="Postbacks").click()
        template = tracker.base_url + "/pb?cid={click_id}&s1={sub1}&p={payout}&st={status}"
        page.get_by_label("Postback URL template").fill(template)
        page.get_by_role("button", name="Save postback").click()
        # 127.0.0.1 is no public address: refused on save (and again when the worker connects).
        expect(page.get_by_text("only public addresses are allowed")).to_be_visible()
        shot("private-address-refused")

        settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]  # the operator's exception
        page.get_by_label("Approved").check()
        page.get_by_role("button", name="Save postback").click()
        expect(page.get_by_text("Postback added.")).to_be_visible()
        endpoints = page.get_by_role("table", name="Your postbacks")
        expect(endpoints).to_contain_text("Global")
        expect(endpoints).to_contain_text("created, approved")

        page.get_by_role("button", name=re.compile("^Test fire postback")).click()
        expect(page.get_by_text("Test postback sent to the delivery queue")).to_be_visible()
        log = page.get_by_role("table", name="Delivery log")
        first = log.locator("tbody tr").first
        expect(first).to_contain_text("test")
        expect(first).to_contain_text("delivered")
        expect(first.locator("[data-status-code]")).to_have_text("200")
        expect(first.locator("[data-excerpt]")).to_contain_text("OK")
        expect(first).to_contain_text(" ms")
        assert tracker.hits[-1].query["s1"] == ["test_sub1"]
        shot("test-fired")

        click_id = click_real(edge, shoes_link.token, sub1="spring")
        postback_real(edge, click_id, amount="50.00", txn_id="ORD-PB-1")
        page.reload()
        conversion_row = log.locator("tbody tr").filter(has_text="created")
        expect(conversion_row).to_contain_text("delivered")
        assert tracker.hits[-1].query == {
            "cid": [click_id],
            "s1": ["spring"],
            "p": ["4.00"],
            "st": ["pending"],
        }

        tracker.reply(500, "tracker down")
        conversion_row.get_by_role("button", name=re.compile("^Re-send delivery")).click()
        expect(page.get_by_text("Re-sent: HTTP 500.")).to_be_visible()
        expect(conversion_row.locator("[data-status-code]")).to_have_text("500")
        expect(conversion_row.locator("[data-excerpt]")).to_contain_text("tracker down")
        expect(conversion_row).to_contain_text("2 attempts")
        assert len(tracker.hits) == 3
        shot("re-sent")


def test_4_the_publisher_exports_conversions_as_csv(page, shot, pia, traffic, tmp_path: Path):
    login(page, "pia")
    page.goto("/publisher/conversions/")
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    target = tmp_path / "conversions.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 1
    assert rows[0]["conversion_id"] == str(traffic.pk)
    assert rows[0]["txn_id"] == "ORD-1001"
    assert rows[0]["payout"] == "8.00"
    assert rows[0]["status"] == "pending"
    assert "revenue" not in rows[0]  # a publisher never sees what the advertiser pays
    shot("export")


def test_4_the_publisher_exports_a_report_as_csv(page, edge, shot, pia, shoes_link, tmp_path: Path):
    for sub1 in ("spring", "spring", "autumn"):
        click_real(edge, shoes_link.token, sub1=sub1)
    rollups_refresh()
    login(page, "pia")
    page.goto("/reports/")
    page.get_by_label("Group by").select_option(["sub1"])
    page.get_by_role("button", name="Run report").click()
    expect(page.get_by_role("table", name="Report")).to_contain_text("autumn")
    shot("report-by-sub1")
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    target = tmp_path / "report.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(target.open()))
    by_sub = {r["sub1"]: r for r in rows}
    assert by_sub["spring"]["gross_clicks"] == "2"
    assert by_sub["autumn"]["gross_clicks"] == "1"
    assert by_sub["Total"]["gross_clicks"] == "3"
    assert "revenue" not in rows[0]


def test_5_an_advertiser_creates_an_offer_with_two_goals(page, shot, ada, pixelpush):
    login(page, "ada")
    page.get_by_role("link", name="Offers").click()
    page.get_by_role("link", name="New offer").click()
    page.get_by_label("Name", exact=True).fill("Acme Boots Winter")
    page.get_by_label("Category").fill("retail")
    page.get_by_label("Landing url").fill("https://boots.example.com/?cid={click_id}&s1={sub1}")
    page.get_by_label("Countries").fill("us, ca")
    page.get_by_label("Mobile").check()
    page.get_by_label("Goal code (row 1)").fill("sale")
    page.get_by_label("Goal name (row 1)").fill("Sale")
    page.get_by_label("Goal payout type (row 1)").select_option("cps")
    page.get_by_label("Goal payout (row 1)").fill("7.5")
    page.get_by_label("Goal revenue (row 1)").fill("10")
    page.get_by_label("Goal is default (row 1)").check()
    page.get_by_label("Goal code (row 2)").fill("lead")
    page.get_by_label("Goal name (row 2)").fill("Newsletter lead")
    page.get_by_label("Goal payout type (row 2)").select_option("cpl")
    page.get_by_label("Goal payout (row 2)").fill("1.20")
    page.get_by_label("Goal revenue (row 2)").fill("2.00")
    page.get_by_label("Cap metric (row 1)").select_option("conversions")
    page.get_by_label("Cap period (row 1)").select_option("day")
    page.get_by_label("Cap limit (row 1)").fill("500")
    page.get_by_label("Target conversions").fill("300")
    page.get_by_label("Per", exact=True).select_option("month")
    shot("offer-form")
    page.get_by_role("button", name="Create offer").click()
    expect(page.get_by_text("Offer “Acme Boots Winter” saved.")).to_be_visible()
    offer = Offer.objects.get(name="Acme Boots Winter")
    goals = {g.code: g for g in offer.goals.all()}
    assert set(goals) == {"sale", "lead"}
    assert goals["sale"].is_default
    assert goals["sale"].payout == Decimal("7.5")
    assert goals["lead"].payout_type == Goal.PayoutType.CPL
    assert offer.target_countries == ["US", "CA"]
    assert offer.target_devices == ["mobile"]
    assert offer.caps.get().limit == Decimal("500")
    assert (offer.target.conversions, offer.target.period) == (300, "month")
    shot("offer-saved")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Offers").click()
    expect(page.get_by_role("row").filter(has_text="Acme Boots Winter")).to_contain_text("7.5% of sale")
    shot("offers-list")


def test_5_the_integration_page_reveals_a_rotated_token_once(page, shot, ada, acme, shoes):
    login(page, "ada")
    page.get_by_role("link", name="Integration").click()
    expect(page.get_by_text(f"Your token starts with {acme.postback_token_hint}")).to_be_visible()
    expect(page.get_by_text("hashlib.sha256")).to_be_visible()
    expect(page.get_by_label("Pixel snippet")).to_contain_text(f"/p/{shoes.pk}.gif?goal=sale")
    page.get_by_role("button", name="Rotate token & reveal").click()  # not confirmed: refused
    expect(page.get_by_text(f"Your token starts with {acme.postback_token_hint}")).to_be_visible()
    page.get_by_label("the old token stops working at once").check()
    page.get_by_role("button", name="Rotate token & reveal").click()
    token = page.locator("[data-token]").input_value()
    acme.refresh_from_db()
    assert token_digest(token) == acme.postback_token_digest
    assert token != ACME_POSTBACK_TOKEN
    expect(page.locator("input[data-goal='sale']")).to_have_value(re.compile(f"goal=sale.*token={token}$"))
    shot("integration")
    page.goto("/advertiser/integration/")
    expect(page.locator("[data-token]")).to_have_count(0)


def test_5b_the_advertiser_runs_a_test_conversion_and_sees_the_trace(page, shot, ada, shoes_link):
    login(page, "ada")
    page.goto("/advertiser/integration/")
    page.get_by_label("Offer").select_option(label=shoes_link.offer.name)
    page.get_by_label("Goal code").fill("sale")
    page.get_by_label("Publisher").select_option(label=shoes_link.publisher.name)
    page.get_by_label("Sale amount").fill("120.00")
    page.get_by_role("button", name="Send test conversion").click()
    result = page.locator("[data-test-result]")
    expect(result).to_be_visible()
    expect(result).to_contain_text("pending")
    trace = result.locator("[data-trace]")
    expect(trace).to_contain_text("last_click")
    expect(trace).to_contain_text("sale")
    expect(result).to_contain_text("nothing was kept")
    shot("test-conversion")
    # A dry run: nothing is left behind.
    assert not shoes_link.offer.conversions.exists()
    assert not Commission.objects.exists()


def test_6_the_advertiser_approves_in_bulk_and_reverses_a_conversion(
    page, edge, shot, ada, shoes_link, refund_hold
):
    conversion_ids = []
    for i in range(3):
        # Three shoppers: the advertiser decides on conversions the fraud rules did not hold.
        click_id = click_real(edge, shoes_link.token, ip=f"8.8.4.{i + 1}", sub1=f"c{i}")
        answer = postback_real(edge, click_id, amount="100.00", txn_id=f"ORD-30{i}")
        assert answer["result"] == "accepted", answer
        conversion_ids.append(answer["conversion_id"])
    login(page, "ada")
    page.get_by_role("link", name="Conversions").click()
    shot("review")
    for pk in conversion_ids[:2]:
        page.get_by_label(f"Select conversion {pk}").check()
    page.get_by_label("With selected").select_option("approved")
    page.get_by_label("Reason").fill("order shipped")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Approves 2 conversions now")).to_be_visible()  # a bulk action asks first
    page.get_by_label("I understand what this will do").check()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("2 conversions approved.")).to_be_visible()
    statuses = dict(
        Commission.objects.filter(conversion__in=conversion_ids).values_list("conversion_id", "status")
    )
    assert [statuses[pk] for pk in conversion_ids] == ["approved", "approved", "pending"]
    shot("approved")
    page.get_by_role("button", name=f"Reverse conversion {conversion_ids[0]}").click()
    expect(page.get_by_text("the ledger takes back what they earned")).to_be_visible()
    page.get_by_label("I understand what this will do").check()
    page.get_by_role("button", name="Reverse").click()
    expect(page.get_by_text("1 conversion reversed.")).to_be_visible()
    reversed_ = Commission.objects.get(conversion=conversion_ids[0])
    assert reversed_.status == "reversed"
    row = page.get_by_role("row").filter(has_text=f"#{conversion_ids[0]}")
    expect(row).to_contain_text("reversed")
    # The ledger took the reversed sale back: the publisher is owed the one still approved.
    assert publisher_balances(publisher_id=shoes_link.publisher_id) == {"USD": Decimal("8.00")}
    shot("reversed")


def _earned_last_month(edge: EdgeClient, token: str) -> date:
    """A real click and postback in the middle of last month, in-process (the browser's clock
    is not travelled). Acme has no refund hold, so the reconciliation tick approves the
    commission at once: what the month's payout run pays."""
    this_month = timezone.now().date().replace(day=1)
    period = (this_month - timedelta(days=1)).replace(day=1)
    with time_machine.travel(datetime(period.year, period.month, 14, 12, tzinfo=UTC), tick=True):
        landing = edge.get(f"/c/{token}?sub1=spring", REMOTE_ADDR="8.8.8.8", HTTP_USER_AGENT=DESKTOP_UA)[
            "Location"
        ]
        stream_drain()
        click_id = re.search(r"cid=([A-Za-z0-9_-]+)", landing).group(1)  # type: ignore[union-attr]
        query = urlencode(
            {"click_id": click_id, "amount": "2500.00", "txn_id": "ORD-7", "token": ACME_POSTBACK_TOKEN}
        )
        answer = edge.get(f"/postback?{query}").json()
        reconcile()
    assert Commission.objects.get(conversion_id=answer["conversion_id"]).status == "approved"
    return period


def test_7_staff_runs_approves_and_pays_a_payout_run(page, edge, shot, nadia, shoes_link):
    period = _earned_last_month(edge, shoes_link.token)  # 8% of 2500.00 = 200.00
    login(page, "nadia")
    page.get_by_role("link", name="Payout runs").click()
    page.get_by_label("Month").fill(period.strftime("%Y-%m"))
    page.get_by_role("button", name="Build payout run").click()
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_role("row").filter(has_text=shoes_link.publisher.name)).to_contain_text("200.00")
    expect(page.get_by_role("button", name="Approve run")).to_be_visible()
    shot("run-built")
    page.get_by_role("button", name="Approve run").click()
    expect(page.get_by_text("1 draft payout to 1 publisher (200.00 USD) becomes approved")).to_be_visible()
    page.get_by_label("I understand what this will do").check()
    page.get_by_role("button", name="Approve run").click()
    expect(page.get_by_text("is approved.")).to_be_visible()
    page.get_by_label("Payment reference").fill("WIRE-2024-07")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text("marked paid with reference “WIRE-2024-07”")).to_be_visible()
    page.get_by_label("I understand what this will do").check()
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text("is paid.")).to_be_visible()
    run = PayoutRun.objects.get()
    assert (run.period, run.status) == (period, PayoutRun.Status.PAID)
    payout = Payout.objects.get()
    assert (payout.amount, payout.status, payout.payment_reference) == (
        Decimal("200.00"),
        "paid",
        "WIRE-2024-07",
    )
    shot("run-paid")
    page.goto("/staff/payout-runs/")
    page.get_by_label("Month").fill(period.strftime("%Y-%m"))  # the same month again: nothing new
    page.get_by_role("button", name="Build payout run").click()
    expect(page.get_by_text("already exists")).to_be_visible()
    assert PayoutRun.objects.count() == 1


def test_7_the_run_page_polls_progress_until_the_run_is_built(page, shot, nadia, pixelpush):
    run = PayoutRun.objects.create(period=date(2024, 1, 1), status="building", progress_total=4)
    login(page, "nadia")
    page.goto(f"/staff/payout-runs/{run.pk}/")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    shot("building")
    PayoutRun.objects.filter(pk=run.pk).update(progress_done=4, status="draft")
    expect(page.get_by_text("4 of 4 publishers")).to_be_visible()
    expect(page.get_by_role("button", name="Approve run")).to_be_visible()  # reloaded once done
    shot("built")
