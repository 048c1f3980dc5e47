"""Money pages: statements, balances, run form and progress."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from affiliates.tests.signin import sign_in
from tests.portal_data import commission_for, conversion_make, payout_run_make
from tracking.tests.factories import click_make


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_a_statement_lists_the_periods_approved_commissions_as_csv_and_pdf(pia, shoes_link):
    at = datetime(2024, 1, 15, 12, tzinfo=UTC)
    click = click_make(offer=shoes_link.offer, publisher=shoes_link.publisher, at=at)
    conversion_make(click=click, status="approved", amount=Decimal("250.00"), at=at)
    run = payout_run_make(period=date(2024, 1, 1), publisher=shoes_link.publisher, amount=Decimal("20.00"))
    payout = run.payouts.get()
    client = client_for(pia)
    body = client.get(f"/publisher/payouts/{payout.pk}/statement.csv").content.decode()
    assert "2024-01-15" in body
    assert "20.000000" in body or "20.00" in body
    pdf = client.get(f"/publisher/payouts/{payout.pk}/statement.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert client.get(f"/publisher/payouts/{payout.pk}/statement.exe").status_code == 404


def test_the_payouts_page_shows_paid_totals(pia, shoes_link):
    payout_run_make(
        period=date(2024, 1, 1), publisher=shoes_link.publisher, amount=Decimal("80.00"), status="paid"
    )
    response = client_for(pia).get("/publisher/payouts/")
    assert b"80.00 USD" in response.content


def test_a_run_for_the_current_month_is_refused(nadia):
    month = timezone.now().strftime("%Y-%m")
    response = client_for(nadia).post("/staff/payout-runs/", {"period": month})
    assert "period" in response.context["form"].errors


def test_the_runs_list_totals_each_currency_apart(nadia, pixelpush, rival):
    from payouts.models import Payout

    run = payout_run_make(period=date(2024, 1, 1), publisher=pixelpush, amount=Decimal("80.5"))
    Payout.objects.create(
        run=run, publisher=rival, period=run.period, currency="EUR", amount=Decimal("19.25"), status="draft"
    )
    body = client_for(nadia).get("/staff/payout-runs/").content.decode()
    assert "19.25 EUR · 80.50 USD" in body  # never one 99.75 across currencies


def test_progress_reports_done_and_total(nadia):
    from payouts.models import PayoutRun

    run = PayoutRun.objects.create(
        period=date(2024, 2, 1), status="building", progress_done=3, progress_total=9
    )
    assert client_for(nadia).get(f"/staff/payout-runs/{run.pk}/progress.json").json() == {
        "status": "building",
        "done": 3,
        "total": 9,
        "payouts": 0,
    }


def test_commission_helper_prices_a_cpl_goal_flat(shoes_link):
    conversion = conversion_make(
        click=click_make(offer=shoes_link.offer, publisher=shoes_link.publisher),
        goal_code="lead",
        with_commission=False,
    )
    assert commission_for(conversion).payout == Decimal("1.50")


def test_a_publisher_saves_a_global_and_a_per_goal_postback_and_resaving_updates(pia, shoes_link):
    from payouts.models.callbacks import CallbackEndpoint

    client = client_for(pia)
    sale = shoes_link.offer.goals.get(code="sale")
    url = "https://tracker.example.com/pb?cid={click_id}&p={payout}"
    assert (
        client.post(
            "/publisher/postbacks/",
            {"do": "save", "url": url, "events": ["created"], "method": "GET", "is_active": "on"},
        ).status_code
        == 302
    )
    client.post(
        "/publisher/postbacks/",
        {
            "do": "save",
            "url": url + "&g=sale",
            "goal": sale.pk,
            "events": ["approved", "reversed"],
            "method": "POST",
        },
    )
    client.post(
        "/publisher/postbacks/", {"do": "save", "url": url + "&v=2", "events": ["created"], "method": "GET"}
    )
    glob, per_goal = CallbackEndpoint.objects.order_by("id")
    assert (glob.scope, glob.url, glob.is_active) == ("global", url + "&v=2", False)
    assert (per_goal.scope, per_goal.offer_id, per_goal.events, per_goal.method) == (
        "goal",
        shoes_link.offer_id,
        ["approved", "reversed"],
        "POST",
    )


def test_a_private_or_malformed_postback_url_is_refused_on_the_form(pia, shoes_link):
    client = client_for(pia)
    for url, message in [
        ("http://127.0.0.1/pb", "only public addresses are allowed"),
        ("https://t.example.com/pb?x={nope}", "Unknown macro(s): nope."),
    ]:
        response = client.post(
            "/publisher/postbacks/", {"do": "save", "url": url, "events": ["created"], "method": "GET"}
        )
        assert response.status_code == 200
        assert message in str(response.context["form"].errors), response.context["form"].errors


def test_a_publisher_cannot_test_fire_or_resend_another_publishers_postback(pia, rival):
    from payouts.models.callbacks import CallbackDelivery
    from payouts.tests.factories_callbacks import CallbackEndpointFactory

    theirs = CallbackEndpointFactory(publisher=rival)
    delivery = CallbackDelivery.objects.create(
        key="x", endpoint=theirs, publisher=rival, event="test", url=theirs.url, give_up_at=timezone.now()
    )
    client = client_for(pia)
    assert client.post("/publisher/postbacks/", {"do": "test", "endpoint": theirs.pk}).status_code == 404
    assert client.post("/publisher/postbacks/", {"do": "resend", "delivery": delivery.pk}).status_code == 404
    assert delivery.attempts.count() == 0
    assert CallbackDelivery.objects.count() == 1
