"""The portal flows of issue 5, in a real Chromium against the live server.

Steps that call another part's service (conversions, ledger, payout runs, reports) are in
separate tests marked xfail until those parts are merged; everything else runs for real.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from affiliates.models import Goal, Offer, OfferAccess, Publisher, token_digest
from affiliates.tests import factories as f
from conftest import ACME_POSTBACK_TOKEN
from payouts.ledger import Line, account_get, ledger_post
from payouts.models import Account, Commission, PayoutRun
from tests.browser.conftest import login
from tests.portal_data import click_make, conversion_make

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
    expect(page.locator("[data-kpi=epc]")).to_have_text("4.00 USD")
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


@pytest.mark.xfail(strict=False, reason="needs conversions branch (/c/, /postback) and reports branch")
def test_3b_a_real_click_and_postback_show_on_the_dashboard_and_reports(page, shot, pia, shoes_link):
    response = page.request.get(f"/c/{shoes_link.token}?sub1=spring", max_redirects=0)
    assert response.status == 302
    click_id = re.search(r"cid=([A-Za-z0-9_-]+)", response.headers["location"]).group(1)
    postback = page.request.get(
        f"/postback?click_id={click_id}&amount=100.00&txn_id=ORD-2001&token={ACME_POSTBACK_TOKEN}"
    )
    assert postback.json()["result"] == "accepted"
    login(page, "pia")
    page.get_by_role("link", name="Today").click()
    expect(page.locator("[data-kpi=clicks]")).to_have_text("1")
    expect(page.locator("[data-kpi=conversions]")).to_have_text("1")
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("button", name="Run report").click()
    expect(page.get_by_role("table", name="Report")).to_contain_text("1")
    shot("reports")


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
    page.get_by_role("button", name="Rotate token & reveal").click()
    token = page.locator("[data-token]").input_value()
    acme.refresh_from_db()
    assert token_digest(token) == acme.postback_token_digest
    assert token != ACME_POSTBACK_TOKEN
    expect(page.get_by_label(re.compile("Call this URL"))).to_have_value(re.compile(f"token={token}$"))
    shot("integration")
    page.goto("/advertiser/integration/")
    expect(page.locator("[data-token]")).to_have_count(0)


@pytest.mark.xfail(strict=False, reason="needs conversions branch (conversion_record_test)")
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
    expect(result.locator("[data-trace]")).not_to_be_empty()
    shot("test-conversion")


@pytest.mark.xfail(strict=False, reason="needs ledger branch (commissions_set_status)")
def test_6_the_advertiser_approves_in_bulk_and_reverses_a_conversion(page, shot, ada, shoes_link):
    clicks = [click_make(offer=shoes_link.offer, publisher=shoes_link.publisher) for _ in range(3)]
    conversions = [conversion_make(click=c, txn_id=f"ORD-30{i}") for i, c in enumerate(clicks)]
    login(page, "ada")
    page.get_by_role("link", name="Conversions").click()
    shot("review")
    for c in conversions[:2]:
        page.get_by_label(f"Select conversion {c.pk}").check()
    page.get_by_label("With selected").select_option("approved")
    page.get_by_label("Reason").fill("order shipped")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("2 conversions approved.")).to_be_visible()
    statuses = dict(
        Commission.objects.filter(conversion__in=conversions).values_list("conversion_id", "status")
    )
    assert [statuses[c.pk] for c in conversions] == ["approved", "approved", "pending"]
    shot("approved")
    page.get_by_role("button", name=f"Reverse conversion {conversions[0].pk}").click()
    expect(page.get_by_text("1 conversion reversed.")).to_be_visible()
    assert Commission.objects.get(conversion=conversions[0]).status == "reversed"
    shot("reversed")


def _approved_balance(publisher, amount: Decimal) -> None:
    """An approved, unpaid balance in the ledger: what a payout run pays."""
    payable = account_get(kind=Account.Kind.PUBLISHER_PAYABLE, currency="USD", publisher_id=publisher.pk)
    cash = account_get(kind=Account.Kind.NETWORK_CASH, currency="USD")
    ledger_post(
        kind="adjustment",
        key=f"test-balance:{publisher.pk}",
        lines=[Line(payable, -amount), Line(cash, amount)],
    )


@pytest.mark.xfail(strict=False, reason="needs payruns branch (run_payouts, payout_run_approve/mark_paid)")
def test_7_staff_runs_approves_and_pays_a_payout_run(page, shot, nadia, pixelpush):
    _approved_balance(pixelpush, Decimal("180.00"))
    last_month = (timezone.now().date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    login(page, "nadia")
    page.get_by_role("link", name="Payout runs").click()
    page.get_by_label("Month").fill(last_month)
    page.get_by_role("button", name="Build payout run").click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(page.get_by_role("button", name="Approve run")).to_be_visible()
    shot("run-built")
    page.get_by_role("button", name="Approve run").click()
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text("is paid.")).to_be_visible()
    assert PayoutRun.objects.get().status == PayoutRun.Status.PAID
    shot("run-paid")


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
