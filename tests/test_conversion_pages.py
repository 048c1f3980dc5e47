"""Conversion pages: filters, bulk actions narrowed to the actor's tenant, uploads, reports."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.models import Commission
from payouts.reports.services import rollups_rebuild_all
from tests.portal_data import conversion_make
from tracking.tests.factories import click_make


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_bulk_status_changes_only_reach_the_advertisers_own_commissions(ada, shoes_link, globex):
    own = conversion_make(click=click_make(offer=shoes_link.offer, publisher=shoes_link.publisher))
    other_offer = shoes_link.offer.__class__.objects.create(
        advertiser=globex, name="Globex", landing_url="https://g.example.com/?c={click_id}"
    )
    other_offer.goals.create(
        code="sale", name="Sale", payout_type="cps", payout=5, revenue=9, is_default=True
    )
    theirs = conversion_make(click=click_make(offer=other_offer, publisher=shoes_link.publisher))
    client = client_for(ada)
    bulk = {"ids": [own.pk, theirs.pk], "action": "approved", "reason": "ok"}
    # Several at once: the confirm page first, nothing changed yet.
    asked = client.post("/advertiser/conversions/status/", bulk)
    assert asked.status_code == 200
    assert "Approves 2 conversions now" in asked.content.decode()
    assert Commission.objects.get(conversion=own).status == "pending"
    response = client.post("/advertiser/conversions/status/", {**bulk, "confirm": "yes"}, follow=True)
    assert "1 conversion approved." in response.content.decode()
    assert Commission.objects.get(conversion=own).status == "approved"
    assert Commission.objects.get(conversion=theirs).status == "pending"


def test_a_refused_transition_is_reported_with_its_reason_and_changes_nothing(ada, shoes_link):
    own = conversion_make(
        click=click_make(offer=shoes_link.offer, publisher=shoes_link.publisher), status="rejected"
    )
    response = client_for(ada).post(
        "/advertiser/conversions/status/", {"ids": [own.pk], "action": "approved"}, follow=True
    )
    assert response.status_code == 200
    assert "It is rejected, which is final." in response.content.decode()
    assert Commission.objects.get(conversion=own).status == "rejected"


def test_the_conversion_list_filters_by_status_and_text(pia, shoes_link):
    click = click_make(offer=shoes_link.offer, publisher=shoes_link.publisher, sub1="blog")
    approved = conversion_make(click=click, txn_id="A-1", status="approved")
    conversion_make(click=click_make(offer=shoes_link.offer, publisher=shoes_link.publisher), txn_id="P-1")
    client = client_for(pia)
    assert [c.pk for c in client.get("/publisher/conversions/?status=approved").context["page"]] == [
        approved.pk
    ]
    assert [c.pk for c in client.get("/publisher/conversions/?q=A-1").context["page"]] == [approved.pk]


def test_csv_cells_that_look_like_formulas_are_neutralised(pia, shoes_link):
    click = click_make(offer=shoes_link.offer, publisher=shoes_link.publisher, sub1="=HYPERLINK(1)")
    conversion_make(click=click)
    body = b"".join(client_for(pia).get("/publisher/conversions/?format=csv").streaming_content).decode()
    assert "'=HYPERLINK(1)" in body


def test_an_upload_that_is_not_csv_is_refused_before_any_service_runs(ada, shoes_link):
    own = conversion_make(
        click=click_make(offer=shoes_link.offer, publisher=shoes_link.publisher), txn_id="A"
    )
    upload = SimpleUploadedFile("adjust.exe", b"txn_id,status\nA,approved\n", content_type="text/csv")
    response = client_for(ada).post("/advertiser/conversions/upload/", {"file": upload}, follow=True)
    assert b"Upload a .csv file." in response.content
    assert Commission.objects.get(conversion=own).status == "pending"


def test_a_csv_upload_adjusts_only_the_advertisers_own_conversions(ada, shoes_link, globex):
    own = conversion_make(
        click=click_make(offer=shoes_link.offer, publisher=shoes_link.publisher), txn_id="A"
    )
    upload = SimpleUploadedFile(
        "adjust.csv", b"txn_id,status,reason\nA,approved,shipped\n", content_type="text/csv"
    )
    response = client_for(ada).post("/advertiser/conversions/upload/", {"file": upload}, follow=True)
    assert "1 commission(s) changed" in response.content.decode()
    assert Commission.objects.get(conversion=own).status == "approved"

    upload = SimpleUploadedFile("adjust.csv", b"txn_id,status,reason\nA,reversed,refund\n")
    gus = f.UserFactory(username="gus2")
    globex.members.add(gus)
    response = client_for(gus).post("/advertiser/conversions/upload/", {"file": upload}, follow=True)
    assert "Nothing was applied." in response.content.decode()
    assert Commission.objects.get(conversion=own).status == "approved"


def test_the_reports_page_reads_the_rollups_in_the_time_zone_and_exports_csv(pia, shoes_link):
    at = datetime(2024, 1, 2, 1, 30, tzinfo=UTC)  # Jan 2 in UTC and in Paris
    click = click_make(offer=shoes_link.offer, publisher=shoes_link.publisher, at=at, sub1="blog")
    click_make(offer=shoes_link.offer, publisher=shoes_link.publisher, at=at)
    conversion_make(click=click, amount=Decimal("100.00"), at=at)
    rollups_rebuild_all(start=datetime(2024, 1, 1, tzinfo=UTC), end=datetime(2024, 1, 8, tzinfo=UTC))
    client = client_for(pia)
    url = "/reports/?start=2024-01-01&end=2024-01-07&group_by=day&tz=Europe/Paris"

    page = client.get(url)
    [row] = page.context["table"]["rows"]
    assert [cell["text"] for cell in row[:3]] == ["2024-01-02", "USD", "0"]  # day, currency, impressions
    assert page.context["report"].totals[0]["gross_clicks"] == 2
    assert page.context["report"].totals[0]["payout"] == Decimal("8")
    assert 'role="img"' in page.content.decode()  # the per-day chart

    lines = client.get(url + "&format=csv").content.decode().splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["day", "currency"]
    assert "revenue" not in header  # a publisher never sees what the advertiser pays
    day_row = dict(zip(header, lines[1].split(","), strict=True))
    assert (day_row["day"], day_row["gross_clicks"], day_row["conversions"]) == ("2024-01-02", "2", "1")
    assert lines[-1].startswith("Total,USD")


def test_the_reports_page_groups_by_offer_with_its_name(ada, shoes_link):
    at = datetime(2024, 1, 2, 12, tzinfo=UTC)
    click_make(offer=shoes_link.offer, publisher=shoes_link.publisher, at=at)
    rollups_rebuild_all(start=datetime(2024, 1, 1, tzinfo=UTC), end=datetime(2024, 1, 8, tzinfo=UTC))
    page = client_for(ada).get("/reports/?start=2024-01-01&end=2024-01-07&group_by=offer&tz=UTC")
    headers = [h["label"] for h in page.context["table"]["headers"]]
    assert headers[:2] == ["Offer", "Currency"]
    assert "Payout" not in headers  # an advertiser sees cost, never the publisher's payout
    assert page.context["table"]["rows"][0][0]["text"] == shoes_link.offer.name
    assert page.context["chart"] is None


def test_the_reports_page_refuses_an_unknown_time_zone(pia):
    response = client_for(pia).get("/reports/?start=2024-01-01&end=2024-01-07&group_by=day&tz=Mars/Base")
    assert response.status_code == 200
    assert "tz" in response.context["form"].errors
