"""The staff console's overview, detail pages and money lists (payouts.portal.console*): KPIs
against earlier windows, top offers and publishers, movers, caps near their limit and the
queues waiting for staff, read from real rows on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext

from affiliates.models import Cap, Publisher
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.models import Commission, Document
from payouts.models.callbacks import CallbackDelivery
from payouts.portal import console_selectors as sel
from tests.portal_data import conversion_make, payout_run_make
from tracking.models import CapCounter
from tracking.portal.console_selectors import caps_near_limit
from tracking.tests.factories import click_make

NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)  # a Wednesday afternoon


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def sale(link, at: datetime, amount: str = "100.00", status: str = "approved"):
    click = click_make(offer=link.offer, publisher=link.publisher, at=at - timedelta(minutes=1))
    return conversion_make(click=click, status=status, amount=Decimal(amount), at=at)


def test_the_overview_compares_today_with_yesterday_and_the_week_by_the_same_hour(shoes_link):
    sale(shoes_link, NOW - timedelta(hours=1))  # today, 14:00: counts
    sale(shoes_link, NOW - timedelta(days=1, hours=2))  # yesterday 13:00: counts for yesterday
    sale(shoes_link, NOW - timedelta(days=1) + timedelta(hours=2))  # yesterday 17:00: after this hour
    sale(shoes_link, NOW - timedelta(days=3, hours=5), amount="50.00")  # in the week
    network = sel.network_so_far(now=NOW)
    # Each sale came with one click a minute before it.
    assert (network.today.clicks, network.today.conversions) == (1, 1)
    assert (network.yesterday.clicks, network.yesterday.conversions) == (1, 1)
    # shoes pays 8 % and earns 12 % of the sale: 12.00 revenue, 4.00 margin on 100.00.
    assert network.today.revenue == {"USD": Decimal("12.00")}
    assert network.today.margin == {"USD": Decimal("4.00")}
    # The week: yesterday's 100.00 and the 50.00 three days ago, over 7 days.
    assert network.week_average.revenue["USD"] == pytest.approx(Decimal("18.00") / 7)
    assert network.week_average.conversions == 0  # 2 / 7 rounds to 0
    tiles = {
        t.label: t
        for t in sel.tiles(network.today, ("yesterday", network.yesterday), currency="USD", rates={})
    }
    assert tiles["Revenue"].value == "12.00 USD"
    assert tiles["Revenue"].changes[0].text == "+0 %"
    assert tiles["Clicks"].changes[0].tone == "flat"


def test_a_period_is_compared_with_the_one_just_before_it(shoes_link, rival):
    start, end = NOW - timedelta(days=7), NOW
    sale(shoes_link, NOW - timedelta(days=2))
    sale(shoes_link, NOW - timedelta(days=3))
    sale(shoes_link, NOW - timedelta(days=10))  # the previous period
    other = f.OfferAccessFactory(offer=shoes_link.offer, publisher=rival, status="approved")
    sale(other, NOW - timedelta(days=1))  # another publisher: not this one's
    tiles = {
        t.label: t
        for t in sel.period_tiles(
            start=start, end=end, where=Q(publisher_id=shoes_link.publisher_id), currency="USD", rates={}
        )
    }
    assert tiles["Conversions"].value == "2"
    assert tiles["Conversions"].changes[0].text == "+100 %"
    assert tiles["Conversions"].changes[0].tone == "up"
    assert tiles["Payout"].value == "16.00 USD"


def test_top_publishers_of_an_offer_rank_by_conversions_with_money_per_currency(shoes_link, rival):
    other = f.OfferAccessFactory(offer=shoes_link.offer, publisher=rival, status="approved")
    for hours in (1, 2):
        sale(other, NOW - timedelta(hours=hours))
    sale(shoes_link, NOW - timedelta(hours=3))
    sale(shoes_link, NOW - timedelta(hours=4), status="rejected")  # earns nothing
    offer = shoes_link.offer
    Commission.objects.create(  # a CPC day: money, no conversion
        source_key=f"cpc:{offer.pk}:{shoes_link.publisher_id}:x:{NOW:%Y-%m-%d}",
        kind=Commission.Kind.CPC,
        advertiser=offer.advertiser,
        offer=offer,
        publisher=shoes_link.publisher,
        goal=offer.goals.get(code="lead"),
        day=NOW.date(),
        quantity=10,
        currency="USD",
        revenue=Decimal("5.00"),
        payout=Decimal("3.00"),
        created_at=NOW - timedelta(hours=5),
    )
    top = sel.top_by(
        start=NOW - timedelta(days=1),
        end=NOW,
        where=Q(offer_id=shoes_link.offer_id),
        by="publisher",
        currency="USD",
        rates={},
    )
    assert [(r.name, r.conversions) for r in top] == [("Rival Traffic", 2), ("PixelPush Media", 1)]
    assert top[0].revenue == {"USD": Decimal("24.00")}
    assert top[0].margin == {"USD": Decimal("8.00")}
    assert top[1].revenue == {"USD": Decimal("17.00")}  # its sale and its CPC day


def test_movers_are_offers_whose_clicks_today_differ_most_from_their_usual(shoes_link, acme, pixelpush):
    quiet = f.OfferAccessFactory(
        offer=f.OfferFactory(advertiser=acme, name="Quiet"), publisher=pixelpush, status="approved"
    )
    for day in range(1, 8):  # 3 clicks each morning last week on shoes, 2 on quiet
        for n in range(3):
            click_make(
                offer=shoes_link.offer, publisher=pixelpush, at=NOW - timedelta(days=day, hours=5, minutes=n)
            )
        for n in range(2):
            click_make(
                offer=quiet.offer, publisher=pixelpush, at=NOW - timedelta(days=day, hours=5, minutes=n)
            )
    for n in range(10):
        click_make(offer=shoes_link.offer, publisher=pixelpush, at=NOW - timedelta(hours=2, minutes=n))
    risers, fallers = sel.top_movers(now=NOW)
    assert [(m.offer.name, m.clicks_today, m.clicks_usual, m.change) for m in risers] == [
        ("Acme Shoes - Summer Sale", 10, 3, 7)
    ]
    assert [(m.offer.name, m.change) for m in fallers] == [("Quiet", -2)]


def test_caps_near_their_limit_are_those_of_the_current_period_over_80_percent(shoes):
    day = Cap.objects.create(offer=shoes, metric="conversions", period="day", limit=Decimal("10"))
    month = Cap.objects.create(offer=shoes, metric="payout", period="month", limit=Decimal("100"))
    week = Cap.objects.create(offer=shoes, metric="revenue", period="week", limit=Decimal("100"))
    CapCounter.objects.create(cap=day, period_start=NOW.date(), scope_key="offer", used=Decimal("8"))
    CapCounter.objects.create(cap=month, period_start=date(2025, 3, 1), scope_key="offer", used=Decimal("95"))
    CapCounter.objects.create(
        cap=month, period_start=date(2025, 2, 1), scope_key="offer", used=Decimal("100")
    )
    CapCounter.objects.create(cap=week, period_start=date(2025, 3, 10), scope_key="offer", used=Decimal("79"))
    near = caps_near_limit(now=NOW)
    assert [(u.cap.pk, u.used) for u in near] == [(month.pk, Decimal("95")), (day.pk, Decimal("8"))]
    assert near[0].share == pytest.approx(0.95)


def test_the_queues_count_what_waits_for_staff(shoes_link, acme, rival):
    f.PublisherFactory(status=Publisher.Status.PENDING)
    f.OfferAccessFactory(offer=shoes_link.offer, publisher=rival, status="pending")
    sale(shoes_link, NOW - timedelta(hours=1), status="pending")
    held = sale(shoes_link, NOW - timedelta(hours=2), status="pending")
    held.held_for_review = True
    held.save(update_fields=["held_for_review"])
    CallbackDelivery.objects.create(
        key="k1",
        publisher=shoes_link.publisher,
        url="https://pub.example/pb",
        status="failed",
        created_at=NOW,
        give_up_at=NOW,
    )
    CallbackDelivery.objects.create(
        key="k2",
        publisher=shoes_link.publisher,
        url="https://pub.example/pb",
        status="delivered",
        created_at=NOW,
        give_up_at=NOW,
    )
    waiting = sel.waiting_for_staff(now=NOW)
    assert (waiting.publishers_pending, waiting.access_pending, waiting.held) == (1, 1, 1)
    assert waiting.postbacks_failed == 1
    assert (waiting.invoices_unpaid, waiting.invoices_overdue) == (0, 0)  # nothing issued, nobody owes


@pytest.mark.parametrize("kind", ["advertiser", "publisher", "offer"])
def test_each_detail_page_shows_kpis_top_rows_recent_conversions_and_notes(kind, nadia, pia, shoes_link):
    conversion = sale(shoes_link, datetime.now(UTC) - timedelta(hours=1))
    pk = {"advertiser": shoes_link.offer.advertiser_id, "publisher": shoes_link.publisher_id}.get(
        kind, shoes_link.offer_id
    )
    client = client_for(nadia)
    client.post(f"/staff/notes/{kind}/{pk}/", {"body": f"Call the {kind} on Monday."})
    response = client.get(f"/staff/{kind}s/{pk}/?period=30d")
    assert response.status_code == 200
    body = response.content.decode()
    tiles = {t.label: t.value for t in response.context["tiles"]}
    assert tiles["Conversions"] == "1"
    assert tiles["Revenue"] == "12.00 USD"
    assert f"/conversions/{conversion.pk}/" in body  # its trace
    assert f"Call the {kind} on Monday." in body
    assert response.context["top"][0].conversions == 1
    assert client_for(pia).get(f"/staff/{kind}s/{pk}/").status_code == 404


def test_the_overview_renders_its_tiles_queues_and_movers(nadia, pia, shoes_link):
    sale(shoes_link, datetime.now(UTC) - timedelta(minutes=2))
    response = client_for(nadia).get("/staff/")
    assert response.status_code == 200
    assert [t.label for t in response.context["tiles"]] == [
        "Clicks",
        "Conversions",
        "Revenue",
        "Payout",
        "Margin",
    ]
    assert "vs 7-day average" in response.content.decode()
    assert client_for(pia).get("/staff/").status_code == 404


@pytest.mark.parametrize(
    "url", ["/staff/commissions/", "/staff/invoices/", "/staff/advertiser-payments/", "/staff/payouts/"]
)
def test_money_lists_are_for_staff_only(url, nadia, ada, pia):
    assert client_for(nadia).get(url).status_code == 200
    assert client_for(ada).get(url).status_code == 404
    assert client_for(pia).get(url).status_code == 404


def test_the_commissions_list_filters_by_status_and_sorts_by_revenue(nadia, shoes_link):
    small = sale(shoes_link, NOW - timedelta(hours=1), amount="10.00")
    big = sale(shoes_link, NOW - timedelta(hours=2), amount="500.00")
    sale(shoes_link, NOW - timedelta(hours=3), amount="50.00", status="rejected")
    client = client_for(nadia)
    table = client.get("/staff/commissions/?status=approved&sort=-revenue").context["table"]
    assert [c.conversion_id for c in table.page] == [big.pk, small.pk]
    table = client.get("/staff/commissions/?status=approved&sort=revenue").context["table"]
    assert [c.conversion_id for c in table.page] == [small.pk, big.pk]
    found = client.get(f"/staff/commissions/?q=conversion:{big.pk}").context["table"]
    assert [c.conversion_id for c in found.page] == [big.pk]


def test_the_payouts_list_pages_and_filters_by_publisher(nadia, pixelpush, rival):
    for month in range(1, 4):
        payout_run_make(period=date(2024, month, 1), publisher=pixelpush, amount=Decimal("10"))
    payout_run_make(period=date(2024, 4, 1), publisher=rival, amount=Decimal("20"))
    table = client_for(nadia).get(f"/staff/payouts/?publisher={rival.pk}").context["table"]
    assert [(p.publisher_id, p.amount) for p in table.page] == [(rival.pk, Decimal("20.000000"))]
    runs = client_for(nadia).get("/staff/payout-runs/?sort=period").context["table"]
    assert [r.period.month for r in runs.page] == [1, 2, 3, 4]


def test_the_conversions_list_links_each_row_to_its_trace_and_filters_held(nadia, shoes_link):
    plain = sale(shoes_link, NOW - timedelta(hours=1), status="pending")
    held = sale(shoes_link, NOW - timedelta(hours=2), status="pending")
    held.held_for_review = True
    held.save(update_fields=["held_for_review"])
    response = client_for(nadia).get("/staff/conversions/?held=True")
    assert [c.pk for c in response.context["table"].page] == [held.pk]
    assert f"/conversions/{held.pk}/" in response.content.decode()
    everything = client_for(nadia).get("/staff/conversions/?sort=created").context["table"]
    assert [c.pk for c in everything.page] == [held.pk, plain.pk]
    assert Document.objects.count() == 0


def test_a_list_page_reads_the_same_number_of_queries_however_many_rows(nadia, shoes_link):
    client = client_for(nadia)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    sale(shoes_link, NOW - timedelta(hours=1))
    few = {url: queries(url) for url in ("/staff/commissions/", "/staff/conversions/", "/staff/accesses/")}
    for hours in range(2, 12):
        sale(shoes_link, NOW - timedelta(hours=hours))
        f.OfferAccessFactory(offer=shoes_link.offer, publisher=f.PublisherFactory(), status="pending")
    assert {url: queries(url) for url in few} == few
