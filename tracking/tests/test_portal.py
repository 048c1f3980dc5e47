"""Conversion pages: filters, bulk actions narrowed to the actor's tenant, uploads, reports."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.portal_data import click_make, conversion_make
from tracking.portal import actions


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_bulk_status_changes_only_reach_the_advertisers_own_commissions(ada, shoes_link, globex, monkeypatch):
    own = conversion_make(click=click_make(offer=shoes_link.offer, publisher=shoes_link.publisher))
    other_offer = shoes_link.offer.__class__.objects.create(
        advertiser=globex, name="Globex", landing_url="https://g.example.com/?c={click_id}"
    )
    other_offer.goals.create(
        code="sale", name="Sale", payout_type="cps", payout=5, revenue=9, is_default=True
    )
    theirs = conversion_make(click=click_make(offer=other_offer, publisher=shoes_link.publisher))
    calls = []
    monkeypatch.setattr(actions, "commissions_set_status", lambda **kw: calls.append(kw))
    client_for(ada).post(
        "/advertiser/conversions/status/", {"ids": [own.pk, theirs.pk], "action": "approved", "reason": "ok"}
    )
    assert len(calls) == 1
    assert calls[0]["commission_ids"] == [own.commission.pk]
    assert calls[0]["status"] == "approved"
    assert calls[0]["reason"] == "ok"


def test_a_missing_ledger_service_is_reported_not_crashed(ada, shoes_link):
    own = conversion_make(click=click_make(offer=shoes_link.offer, publisher=shoes_link.publisher))
    response = client_for(ada).post(
        "/advertiser/conversions/status/", {"ids": [own.pk], "action": "approved"}, follow=True
    )
    assert response.status_code == 200


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


def test_an_upload_that_is_not_csv_is_refused_before_any_service_runs(ada, monkeypatch):
    calls = []
    monkeypatch.setattr(actions, "adjustments_apply_csv", lambda **kw: calls.append(kw))
    upload = SimpleUploadedFile("adjust.exe", b"MZ", content_type="application/octet-stream")
    response = client_for(ada).post("/advertiser/conversions/upload/", {"file": upload}, follow=True)
    assert calls == []
    assert b"Upload a .csv file." in response.content


def test_a_csv_upload_reaches_the_adjustments_service_with_the_advertiser(ada, acme, monkeypatch):
    calls = []
    monkeypatch.setattr(actions, "adjustments_apply_csv", lambda **kw: calls.append(kw) or "2 rows")
    upload = SimpleUploadedFile("adjust.csv", b"txn_id,status\nA,reversed\n", content_type="text/csv")
    client_for(ada).post("/advertiser/conversions/upload/", {"file": upload})
    assert calls[0]["advertiser"] == acme


def test_the_reports_page_passes_the_actor_and_range_and_exports_csv(pia, monkeypatch):
    seen = {}

    def fake(**kw):
        seen.update(kw)
        return [{"day": "2024-01-01", "clicks": 3, "conversions": 1, "payout": "8.00"}]

    monkeypatch.setattr(actions, "report_rows", fake)
    response = client_for(pia).get(
        "/reports/?start=2024-01-01&end=2024-01-07&group_by=day&tz=Europe/Paris&format=csv"
    )
    assert seen["actor"].publisher_id == pia.publishers.get().pk
    assert seen["tz"] == "Europe/Paris"
    assert seen["start"].isoformat() == "2024-01-01T00:00:00+01:00"
    assert response.content.decode().splitlines()[0] == "day,clicks,conversions,payout"


def test_the_reports_page_refuses_an_unknown_time_zone(pia):
    response = client_for(pia).get("/reports/?start=2024-01-01&end=2024-01-07&group_by=day&tz=Mars/Base")
    assert response.status_code == 200
    assert "tz" in response.context["form"].errors
