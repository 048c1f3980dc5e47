from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from affiliates.models import FxRate
from payouts.models import Commission, Transaction
from payouts.reconcile import conversions_reconcile
from tracking.models import Conversion

pytestmark = pytest.mark.django_db


@pytest.fixture
def commissions(shoes, pixelpush, rival):
    from payouts.tests.helpers import convert

    convert(shoes, pixelpush, amount="200", txn_id="ORD-1")
    convert(shoes, pixelpush, goal="lead", txn_id="LEAD-1")
    convert(shoes, rival, goal="lead", txn_id="LEAD-2")
    conversions_reconcile()
    return {c.conversion.txn_id: c for c in Commission.objects.select_related("conversion")}


def test_a_publisher_sees_only_its_commissions_and_never_the_revenue(api_as, pia, commissions):
    data = api_as(pia).get("/api/v1/commissions/").json()
    assert {row["id"] for row in data["results"]} == {commissions["ORD-1"].pk, commissions["LEAD-1"].pk}
    assert all("revenue" not in row for row in data["results"])
    other = commissions["LEAD-2"].pk
    assert api_as(pia).get(f"/api/v1/commissions/{other}/").status_code == 404


def test_an_advertiser_sees_its_offers_commissions_without_the_publisher_payout(
    api_as, ada, gus, commissions
):
    rows = api_as(ada).get("/api/v1/commissions/?status=pending").json()["results"]
    assert len(rows) == 3
    assert all("payout" not in row for row in rows)
    assert api_as(gus).get("/api/v1/commissions/").json()["results"] == []
    assert api_as(gus).get(f"/api/v1/commissions/{rows[0]['id']}/").status_code == 404


def test_the_advertiser_approves_one_with_a_reason(api_as, ada, commissions):
    pk = commissions["ORD-1"].pk
    response = api_as(ada).post(f"/api/v1/commissions/{pk}/approve/", {"reason": "shipped"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    again = api_as(ada).post(f"/api/v1/commissions/{pk}/approve/", {"reason": "shipped"}, format="json")
    assert (again.status_code, again.json()["status"]) == (200, "approved")  # asking twice: no error
    assert Transaction.objects.filter(commission_id=pk, kind="approval").count() == 1


def test_a_reason_is_required(api_as, ada, commissions):
    response = api_as(ada).post(f"/api/v1/commissions/{commissions['ORD-1'].pk}/reject/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


def test_another_advertiser_gets_404_and_a_publisher_403(api_as, gus, pia, commissions):
    pk = commissions["ORD-1"].pk
    assert (
        api_as(gus).post(f"/api/v1/commissions/{pk}/reject/", {"reason": "x"}, format="json").status_code
        == 404
    )
    assert (
        api_as(pia).post(f"/api/v1/commissions/{pk}/approve/", {"reason": "x"}, format="json").status_code
        == 403
    )


def test_bulk_actions_are_all_or_nothing(api_as, nadia, commissions):
    ids = [c.pk for c in commissions.values()]
    bad = api_as(nadia).post(
        "/api/v1/commissions/bulk/",
        {"ids": [*ids, 999999], "action": "approve", "reason": "ok"},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == [{"id": "999999", "code": "not_found", "message": "No such commission."}]
    assert not Commission.objects.filter(status="approved").exists()
    ok = api_as(nadia).post(
        "/api/v1/commissions/bulk/", {"ids": ids, "action": "approve", "reason": "ok"}, format="json"
    )
    assert ok.json()["changed"] == 3


def _upload(client, text):
    return client.post(
        "/api/v1/commissions/adjustments/",
        {"file": SimpleUploadedFile("adj.csv", text.encode(), content_type="text/csv")},
        format="multipart",
    )


def test_a_csv_with_a_bad_row_applies_nothing_and_reports_every_bad_line(api_as, ada, commissions):
    text = (
        "txn_id,status,amount,reason\n"
        "ORD-1,,150.00,partial refund\n"
        "NOPE,rejected,,fraud\n"
        "LEAD-1,paid,,?\n"
        "LEAD-2,rejected,abc,\n"
    )
    response = _upload(api_as(ada), text)
    assert response.status_code == 400
    errors = [(e["line"], e["code"]) for e in response.json()["errors"]]
    assert errors == [
        ("3", "not_found"),
        ("4", "bad_status"),
        ("5", "bad_amount"),
        ("5", "reason_required"),
    ]
    assert Commission.objects.get(pk=commissions["ORD-1"].pk).payout == Decimal("16.00")
    assert not Transaction.objects.filter(kind="adjustment").exists()


def test_a_good_csv_re_prices_sales_and_changes_statuses(api_as, ada, commissions):
    text = "txn_id,status,amount,reason\nORD-1,,150.00,partial refund\nLEAD-1,rejected,,duplicate\n"
    response = _upload(api_as(ada), text)
    assert response.status_code == 200, response.json()
    sale = Commission.objects.get(pk=commissions["ORD-1"].pk)
    assert (sale.payout, sale.revenue, sale.status) == (Decimal("12.00"), Decimal("18.00"), "pending")
    adjustment = sale.transactions.get(kind="adjustment")
    assert sum(e.amount for e in adjustment.entries.all()) == 0
    assert Conversion.objects.get(txn_id="ORD-1").amount == Decimal("150")
    assert Conversion.objects.get(txn_id="LEAD-1").status == "rejected"
    assert _upload(api_as(ada), text).json()["errors"][0]["code"] == "no_change"


def test_publishers_read_their_ledger_entries_and_balances(api_as, pia, rex, commissions):
    entries = api_as(pia).get("/api/v1/ledger/entries/").json()["results"]
    assert {e["account_kind"] for e in entries} == {"publisher_pending"}
    assert len(entries) == 2
    balances = api_as(pia).get("/api/v1/balances/").json()["balances"]
    assert balances == {"USD": {"pending": "17.50", "approved": "0.00", "paid": "0.00"}}
    assert api_as(rex).get("/api/v1/balances/").json()["balances"]["USD"]["pending"] == "1.50"


def test_staff_list_account_balances_and_manage_fx_rates(api_as, nadia, pia, commissions):
    accounts = api_as(nadia).get("/api/v1/balances/?kind=network_pending_margin").json()["accounts"]
    assert [a["balance"] for a in accounts] == ["-9.00"]  # 24 - 16 + 2 x (2.00 - 1.50)
    body = {"base": "EUR", "quote": "USD", "rate": "1.085", "valid_from": "2026-01-01T00:00:00Z"}
    assert api_as(pia).post("/api/v1/fx-rates/", body, format="json").status_code == 403
    assert api_as(nadia).post("/api/v1/fx-rates/", body, format="json").status_code == 201
    bad = api_as(nadia).post("/api/v1/fx-rates/", {**body, "quote": "EUR"}, format="json")
    assert bad.status_code == 400
    assert FxRate.objects.count() == 1
    assert api_as(pia).get("/api/v1/fx-rates/").json()["count"] == 1
