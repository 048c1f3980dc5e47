"""Payout runs, payouts and account statements over the API, role-scoped (issued documents:
test_documents_api.py)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Offer, Publisher
from payouts.models import CommissionStatus, Payout, PayoutRun, Transaction
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.tests.factories_payouts import CommissionFactory, approve_balance, mid

JAN = date(2024, 1, 1)


@pytest.fixture
def jan_run(pixelpush: Publisher, rival: Publisher) -> PayoutRun:
    approve_balance(pixelpush, "120.00", at=mid(JAN))
    approve_balance(rival, "80.00", at=mid(JAN))
    run, _ = payout_run_start(period=JAN)
    payout_run_build(run_id=run.pk)
    return run


def test_staff_create_a_run_that_a_worker_builds(
    nadia: Any, api_as: Any, pixelpush: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    approve_balance(pixelpush, "120.00", at=mid(JAN))
    client = api_as(nadia)

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/payout-runs/", {"period": "2024-01"}, format="json")
    again = client.post("/api/v1/payout-runs/", {"period": "2024-01"}, format="json")

    assert created.status_code == 202, created.json()
    assert created.json()["status"] == "building"
    assert created.json()["task_id"]
    assert again.status_code == 200
    body = client.get(f"/api/v1/payout-runs/{created.json()['id']}/").json()
    assert body["id"] == again.json()["id"]
    assert (body["period"], body["status"], body["progress_percent"]) == ("2024-01", "draft", 100)
    assert body["totals"] == [{"currency": "USD", "payouts": 1, "amount": "120.00"}]
    assert PayoutRun.objects.count() == 1


@pytest.mark.parametrize(
    ("period", "code"), [("2024-13", "bad_period"), ("Jan 2024", "bad_period"), ("2999-01", "period_open")]
)
def test_a_bad_or_open_period_is_a_400(nadia: Any, api_as: Any, period: str, code: str) -> None:
    response = api_as(nadia).post("/api/v1/payout-runs/", {"period": period}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_runs_are_for_staff_only(jan_run: PayoutRun, pia: Any, ada: Any, api_as: Any) -> None:
    for user in (pia, ada):
        client = api_as(user)
        assert client.get("/api/v1/payout-runs/").status_code == 403
        assert client.post(f"/api/v1/payout-runs/{jan_run.pk}/approve/").status_code == 403
        assert client.get(f"/api/v1/payout-runs/{jan_run.pk}/file/").status_code == 403


def test_staff_approve_and_mark_a_run_paid_with_a_reference_per_payout(
    jan_run: PayoutRun, nadia: Any, api_as: Any, pixelpush: Publisher, rival: Publisher
) -> None:
    client = api_as(nadia)
    pp, rv = jan_run.payouts.get(publisher=pixelpush), jan_run.payouts.get(publisher=rival)

    approved = client.post(f"/api/v1/payout-runs/{jan_run.pk}/approve/")
    paid = client.post(
        f"/api/v1/payout-runs/{jan_run.pk}/mark-paid/",
        {"payments": [{"payout": pp.pk, "reference": "PP-1"}, {"payout": rv.pk, "reference": "RV-1"}]},
        format="json",
    )
    repeat = client.post(
        f"/api/v1/payout-runs/{jan_run.pk}/mark-paid/",
        {"payments": [{"payout": pp.pk, "reference": "PP-1"}]},
        format="json",
    )

    assert approved.json()["status"] == "approved"
    assert paid.status_code == 200, paid.json()
    assert paid.json()["status"] == "paid"
    assert repeat.status_code == 200
    assert Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).count() == 2


def test_marking_a_draft_run_paid_is_a_409(jan_run: PayoutRun, nadia: Any, api_as: Any) -> None:
    response = api_as(nadia).post(
        f"/api/v1/payout-runs/{jan_run.pk}/mark-paid/", {"reference": "BATCH"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "run_not_approved"


def test_mark_paid_without_any_reference_is_a_400(jan_run: PayoutRun, nadia: Any, api_as: Any) -> None:
    response = api_as(nadia).post(f"/api/v1/payout-runs/{jan_run.pk}/mark-paid/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "reference_required"


def test_staff_download_the_payout_file(jan_run: PayoutRun, nadia: Any, api_as: Any) -> None:
    response = api_as(nadia).get(f"/api/v1/payout-runs/{jan_run.pk}/file/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="payouts-2024-01.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(r["amount"] for r in rows) == ["120.00", "80.00"]


def test_a_publisher_sees_only_its_own_payouts(
    jan_run: PayoutRun, pia: Any, api_as: Any, pixelpush: Publisher, rival: Publisher
) -> None:
    client = api_as(pia)
    rivals = jan_run.payouts.get(publisher=rival)

    listed = client.get("/api/v1/payouts/").json()["results"]

    assert [(p["publisher"], p["amount"]) for p in listed] == [(pixelpush.pk, "120.00")]
    assert client.get(f"/api/v1/payouts/{rivals.pk}/").status_code == 404
    assert client.post(f"/api/v1/payouts/{listed[0]['id']}/fail/", {"reason": "x"}).status_code == 403


def test_an_advertiser_sees_no_payouts(jan_run: PayoutRun, ada: Any, api_as: Any) -> None:
    assert api_as(ada).get("/api/v1/payouts/").json()["results"] == []


def test_staff_fail_a_payout_and_repeat_it_safely(
    jan_run: PayoutRun, nadia: Any, api_as: Any, pixelpush: Publisher
) -> None:
    payout = jan_run.payouts.get(publisher=pixelpush)
    client = api_as(nadia)

    first = client.post(f"/api/v1/payouts/{payout.pk}/fail/", {"reason": "Account closed"}, format="json")
    second = client.post(f"/api/v1/payouts/{payout.pk}/fail/", {"reason": "Account closed"}, format="json")
    no_reason = client.post(f"/api/v1/payouts/{payout.pk}/fail/", {}, format="json")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "failed"
    assert no_reason.status_code == 400
    assert Payout.objects.get(pk=payout.pk).failure_reason == "Account closed"


# --- statements (account activity) ------------------------------------------------------------------


@pytest.fixture
def january(shoes: Offer, pixelpush: Publisher, rival: Publisher) -> None:
    goal = shoes.goals.get(code="lead")
    for publisher in (pixelpush, rival):
        CommissionFactory(offer=shoes, goal=goal, publisher=publisher, day=date(2024, 1, 10))
    approve_balance(pixelpush, "10.00", at=mid(JAN), advertiser=shoes.advertiser)


def test_a_publisher_reads_its_own_statement_in_every_format(january: None, pia: Any, api_as: Any) -> None:
    client = api_as(pia)

    as_json = client.get("/api/v1/statements/?period=2024-01")
    as_csv = client.get("/api/v1/statements/?period=2024-01&format=csv")
    as_pdf = client.get("/api/v1/statements/?period=2024-01&format=pdf")

    assert as_json.status_code == 200
    assert [c["status"] for c in as_json.json()["commissions"]] == [CommissionStatus.APPROVED]
    assert as_csv["Content-Type"].startswith("text/csv")
    assert as_csv.content.decode().splitlines()[1].startswith("commission,2024-01-10,")
    assert as_pdf["Content-Type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF")


def test_another_publishers_statement_is_a_404(
    january: None, pia: Any, rival: Publisher, api_as: Any
) -> None:
    response = api_as(pia).get(f"/api/v1/statements/?period=2024-01&publisher={rival.pk}")

    assert response.status_code == 404


def test_advertisers_get_no_statements(january: None, ada: Any, api_as: Any) -> None:
    assert api_as(ada).get("/api/v1/statements/?period=2024-01").status_code == 404


def test_staff_name_the_publisher_of_a_statement(
    january: None, nadia: Any, rival: Publisher, api_as: Any
) -> None:
    client = api_as(nadia)

    missing = client.get("/api/v1/statements/?period=2024-01")
    named = client.get(f"/api/v1/statements/?period=2024-01&publisher={rival.pk}")

    assert missing.status_code == 400
    assert missing.json()["code"] == "publisher_required"
    assert named.json()["publisher_id"] == rival.pk


@pytest.mark.parametrize(
    ("query", "code"), [("period=2024-1", "bad_period"), ("period=2024-01&format=xls", "bad_format")]
)
def test_a_bad_document_query_is_a_400(january: None, pia: Any, api_as: Any, query: str, code: str) -> None:
    response = api_as(pia).get(f"/api/v1/statements/?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_totals_are_strings_at_the_currency_minor_unit(jan_run: PayoutRun, nadia: Any, api_as: Any) -> None:
    body = api_as(nadia).get("/api/v1/payouts/").json()["results"]

    assert sorted(Decimal(p["amount"]) for p in body) == [Decimal("80.00"), Decimal("120.00")]
    assert all(p["amount"].count(".") == 1 and len(p["amount"].split(".")[1]) == 2 for p in body)
