"""Every dashboard and report page with a range and its comparison: the figures, their deltas,
totals in the reporting currency, sortable and paginated rows, CSV equal to what is shown,
a clear 400 on a bad range, and query counts that do not grow with the rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.portal import report_table
from payouts.reports.services import rollups_rebuild_all
from tests.portal_data import conversion_make, euro_access_make
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()
# A finished week and the week before it: whole days, whatever the hour the tests run.
FIRST, LAST = TODAY - timedelta(days=9), TODAY - timedelta(days=3)
RANGE = f"range=custom&start={FIRST}&end={LAST}"


def noon(day_offset: int) -> datetime:
    """Noon UTC ``day_offset`` days after the range's first day (negative: the previous period)."""
    return datetime.combine(FIRST + timedelta(days=day_offset), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=12
    )


def sale(link, at: datetime, amount: str = "100.00"):
    click = click_make(offer=link.offer, publisher=link.publisher, at=at - timedelta(minutes=1))
    return conversion_make(click=click, status="approved", amount=Decimal(amount), at=at)


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.fixture
def euro_link(acme, pixelpush):
    """A second offer of Acme's, priced in euros, that PixelPush runs."""
    return euro_access_make(advertiser=acme, publisher=pixelpush)


def test_the_publisher_dashboard_compares_the_range_with_the_week_before(pia, shoes_link) -> None:
    sale(shoes_link, noon(1))
    sale(shoes_link, noon(4))
    sale(shoes_link, noon(-3))  # the previous period
    response = client_for(pia).get(f"/publisher/?{RANGE}")
    assert response.status_code == 200
    kpis = {k.key: k for k in response.context["kpis"]}
    assert (kpis["conversions"].value, kpis["conversions"].previous) == (2, 1)
    assert kpis["conversions"].delta.pct == Decimal(100)
    # 8 % of two 100.00 sales, in the network's base currency.
    assert kpis["earnings"].value == Decimal("16.00")
    body = response.content.decode()
    assert 'data-delta="conversions"' in body
    assert "+1 (+100.0%)" in body
    assert f'value="{FIRST}"' in body  # the custom range stays in its picker


def test_the_dashboard_totals_currencies_in_the_reporting_currency_with_a_breakdown(
    pia, pixelpush, shoes_link, euro_link
) -> None:
    sale(shoes_link, noon(1))  # 8.00 USD
    sale(euro_link, noon(2))  # 8.00 EUR = 8.68 USD
    response = client_for(pia).get(f"/publisher/?{RANGE}")
    earnings = next(k for k in response.context["kpis"] if k.key == "earnings")
    assert earnings.value == Decimal("16.68")
    body = response.content.decode()
    assert "16.68" in body
    assert 'class="fx-breakdown"' in body
    assert "8.00 EUR" in body
    pixelpush.reporting_currency = "EUR"
    pixelpush.save(update_fields=["reporting_currency"])
    again = client_for(pia).get(f"/publisher/?{RANGE}")
    assert next(k for k in again.context["kpis"] if k.key == "earnings").value == Decimal("15.37")


def test_the_advertiser_dashboard_shows_cost_and_cpa_against_the_previous_period(ada, shoes_link) -> None:
    sale(shoes_link, noon(1))
    sale(shoes_link, noon(-1), amount="50.00")
    response = client_for(ada).get(f"/advertiser/?{RANGE}")
    kpis = {k.key: k for k in response.context["kpis"]}
    assert (kpis["cost"].value, kpis["cost"].previous) == (Decimal("12.00"), Decimal("6.00"))
    assert kpis["cpa"].value == Decimal("12.0000")
    assert "+6.00 (+100.0%)" in response.content.decode()


@pytest.mark.parametrize("page", ["/publisher/", "/advertiser/", "/reports/"])
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("range=forever", "bad_range"),
        ("start=2026-13-01&end=2026-01-01", "bad_date"),
        ("start=2001-01-01&end=2026-01-01", "range_too_long"),
    ],
)
def test_a_bad_range_is_a_clear_400_not_a_server_error(pia, ada, shoes_link, page, query, code) -> None:
    user = ada if page == "/advertiser/" else pia
    response = client_for(user).get(f"{page}?{query}")
    assert response.status_code == 400
    assert f'data-code="{code}"' in response.content.decode()


def test_the_dashboard_csv_is_the_figures_shown(pia, shoes_link) -> None:
    sale(shoes_link, noon(1))
    sale(shoes_link, noon(-2))
    client = client_for(pia)
    shown = client.get(f"/publisher/?{RANGE}").context["kpis"]
    body = client.get(f"/publisher/?{RANGE}&format=csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["metric"] for r in rows] == [k.label for k in shown]
    by = {r["metric"]: r for r in rows}
    assert by["Earnings"]["value"] == "8.00"
    assert by["Earnings"]["previous"] == "8.00"
    assert by["Conversions"]["change_pct"] == "0.00"
    assert {r["from"] for r in rows} == {FIRST.isoformat()}


def _report(client: Client, query: str):
    return client.get(f"/reports/?{query}")


def test_the_report_sorts_pages_and_compares_rows_with_the_previous_period(
    ada, shoes_link, rival, monkeypatch
) -> None:
    other = f.OfferAccessFactory(offer=shoes_link.offer, publisher=rival, status="approved")
    for day, n in ((0, 1), (1, 3), (2, 2)):
        for _ in range(n):
            sale(shoes_link, noon(day))
    sale(other, noon(3))
    sale(shoes_link, noon(-2))  # the previous period, PixelPush's
    rollups_rebuild_all(
        start=datetime.combine(FIRST - timedelta(days=8), datetime.min.time(), tzinfo=UTC), end=timezone.now()
    )
    monkeypatch.setattr(report_table, "PAGE_SIZE", 2)
    client = client_for(ada)
    first = _report(client, f"{RANGE}&group_by=day&sort=-conversions")
    assert first.status_code == 200
    page = first.context["page"]
    assert (page.paginator.count, page.paginator.num_pages) == (4, 2)
    shown = [r["conversions"] for r in page.object_list]
    second = _report(client, f"{RANGE}&group_by=day&sort=-conversions&page=2").context["page"]
    shown += [r["conversions"] for r in second.object_list]
    assert shown == [3, 2, 1, 1]
    # The CSV: every page's rows, in the order shown, then the totals.
    body = _report(client, f"{RANGE}&group_by=day&sort=-conversions&format=csv").content.decode()
    rows = [r for r in csv.DictReader(io.StringIO(body)) if r["day"] != "Total"]
    assert [int(r["conversions"]) for r in rows] == shown
    assert [r["day"] for r in rows] == [str(r["day"]) for r in [*page.object_list, *second.object_list]]
    # By publisher: each row beside the same publisher's previous week, names not ids.
    by_pub = _report(client, f"{RANGE}&group_by=publisher&sort=publisher_name")
    html = by_pub.content.decode()
    assert "PixelPush Media" in html
    assert "Rival Traffic" in html
    assert ">+5 (+500.0%)<" in html  # PixelPush: 6 conversions against 1
    kpis = {k.key: k for k in by_pub.context["kpis"]}
    assert (kpis["conversions"].value, kpis["conversions"].previous) == (7, 1)
    assert kpis["cost"].value == Decimal("84.00")


def test_the_staff_report_shows_revenue_and_payout_converted(nadia, shoes_link, euro_link) -> None:
    sale(shoes_link, noon(1))
    sale(euro_link, noon(1))
    rollups_rebuild_all(start=datetime.combine(FIRST, datetime.min.time(), tzinfo=UTC), end=timezone.now())
    response = _report(client_for(nadia), f"{RANGE}&group_by=offer")
    assert response.status_code == 200
    kpis = {k.key: k for k in response.context["kpis"]}
    assert kpis["revenue"].value == Decimal("25.02")  # 12.00 USD + 12.00 EUR x 1.0850
    assert kpis["payout"].converted.mixed
    assert "Acme Boots EU" in response.content.decode()


def test_query_counts_do_not_grow_with_the_rows(pia, ada, shoes_link, rival) -> None:
    def queries(client: Client, url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    start = datetime.combine(FIRST - timedelta(days=8), datetime.min.time(), tzinfo=UTC)
    sale(shoes_link, noon(1))
    rollups_rebuild_all(start=start, end=timezone.now())
    clients = {"/publisher/": client_for(pia), "/advertiser/": client_for(ada), "/reports/": client_for(ada)}
    urls = {p: f"{p}?{RANGE}&group_by=publisher" for p in clients}
    few = {p: queries(clients[p], urls[p]) for p in clients}
    for day in range(7):
        other = f.OfferAccessFactory(
            offer=shoes_link.offer, publisher=f.PublisherFactory(), status="approved"
        )
        sale(other, noon(day))
        sale(shoes_link, noon(day - 7))
    rollups_rebuild_all(start=start, end=timezone.now())
    assert {p: queries(clients[p], urls[p]) for p in clients} == few


@pytest.mark.parametrize(("who", "path"), [("pia", "/publisher/"), ("ada", "/advertiser/")])
def test_the_dashboard_chart_follows_the_chosen_range(who, path, request, shoes_link) -> None:
    sale(shoes_link, noon(1))
    sale(shoes_link, noon(4))
    sale(shoes_link, noon(-3))  # the previous period: not on the chart
    body = client_for(request.getfixturevalue(who)).get(f"{path}?{RANGE}").content.decode()
    assert "clicks: total 2 over 7 days. conversions: total 2." in body
    assert f"{FIRST:%b %d}" in body  # the range's first day is the chart's first label
    assert f"{FIRST - timedelta(days=1):%b %d}</text>" not in body
    one = client_for(request.getfixturevalue(who)).get(f"{path}?range=yesterday").content.decode()
    assert "over 1 day." in one
