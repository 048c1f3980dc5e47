"""Payout file and account statements: what each line says, in CSV and in PDF (issued documents:
test_documents.py)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from affiliates.models import Offer, Publisher
from affiliates.tests.factories import PublisherFactory
from payouts.exports.payout_file import payout_file_csv
from payouts.exports.statements import statement_csv, statement_for, statement_pdf
from payouts.models import CommissionStatus, PayoutRun
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.payout_runs import payout_fail, payout_mark_paid, payout_run_approve
from payouts.tests.factories_payouts import CommissionFactory, approve_balance, mid, reverse_balance

DEC, JAN, FEB = date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1)


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def build(period: date) -> PayoutRun:
    run, _ = payout_run_start(period=period)
    payout_run_build(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_the_payout_file_lists_each_payout_to_send(pixelpush: Publisher, rival: Publisher) -> None:
    Publisher.objects.filter(pk=pixelpush.pk).update(
        payout_method="wire", payout_details={"iban": "DE89 3704"}
    )
    approve_balance(pixelpush, "120.50", at=mid(JAN))
    approve_balance(rival, "80.00", at=mid(JAN))
    run = build(JAN)
    payout_fail(payout=run.payouts.get(publisher=rival), reason="Closed")

    lines = rows(payout_file_csv(run=run))

    assert len(lines) == 1  # failed payouts are not sent
    line = lines[0]
    assert (line["publisher"], line["method"], line["amount"], line["currency"]) == (
        "PixelPush Media", "wire", "120.50", "USD",
    )  # fmt: skip
    assert json.loads(line["details"]) == {"iban": "DE89 3704"}


def test_the_payout_file_defuses_spreadsheet_formulas(db: None) -> None:
    evil = PublisherFactory(name='=HYPERLINK("http://x")', minimum_payout=Decimal("0"))
    approve_balance(evil, "10.00", at=mid(JAN))

    line = rows(payout_file_csv(run=build(JAN)))[0]

    assert line["publisher"] == '\'=HYPERLINK("http://x")'


@pytest.fixture
def january_statement(shoes: Offer, pixelpush: Publisher) -> None:
    lead = shoes.goals.get(code="lead")
    sale = shoes.goals.get(code="sale")
    CommissionFactory(
        offer=shoes, goal=lead, publisher=pixelpush, day=date(2024, 1, 3), payout=Decimal("1.50")
    )
    CommissionFactory(
        offer=shoes, goal=sale, publisher=pixelpush, day=date(2024, 1, 9), payout=Decimal("8.00"),
        status=CommissionStatus.PENDING,
    )  # fmt: skip
    CommissionFactory(offer=shoes, goal=lead, publisher=pixelpush, day=date(2024, 2, 1))  # next period
    approve_balance(pixelpush, "100.00", at=mid(DEC))
    run = build(DEC)
    payout_run_approve(run=run)
    payout_mark_paid(payout=run.payouts.get(), reference="WIRE-DEC")  # paid in "now", not January
    approve_balance(pixelpush, "40.00", at=mid(JAN))
    reverse_balance(pixelpush, "15.00", at=datetime(2024, 1, 20, tzinfo=UTC))


def test_a_statement_lists_the_periods_commissions_and_movements(
    january_statement: None, pixelpush: Publisher
) -> None:
    statement = statement_for(publisher=pixelpush, period=JAN)

    assert [(c.day, c.status, c.payout) for c in statement.commissions] == [
        (date(2024, 1, 3), "approved", "1.50"),
        (date(2024, 1, 9), "pending", "8.00"),
    ]
    assert [(m.kind, m.amount) for m in statement.movements] == [("reversal", "-15.00")]
    balance = statement.balances[0]
    assert (balance.currency, balance.opening, balance.movement, balance.closing) == (
        "USD", "100.00", "25.00", "125.00",
    )  # fmt: skip


def test_a_statement_csv_has_a_line_per_item(january_statement: None, pixelpush: Publisher) -> None:
    lines = rows(statement_csv(statement_for(publisher=pixelpush, period=JAN)))

    assert [line["section"] for line in lines] == [
        "commission", "commission", "transaction", "balance", "balance", "balance",
    ]  # fmt: skip
    assert (lines[0]["offer_or_kind"], lines[0]["goal_or_account"], lines[0]["amount"]) == (
        "Acme Shoes - Summer Sale", "lead", "1.50",
    )  # fmt: skip
    assert (lines[2]["offer_or_kind"], lines[2]["amount"]) == ("reversal", "-15.00")
    assert [(ln["offer_or_kind"], ln["amount"]) for ln in lines[3:]] == [
        ("opening", "100.00"), ("movement", "25.00"), ("closing", "125.00"),
    ]  # fmt: skip


def test_a_payout_and_its_failure_appear_on_the_statement_of_their_month(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "100.00", at=mid(DEC))
    run = build(DEC)
    payout_run_approve(run=run)
    payout = payout_mark_paid(payout=run.payouts.get(), reference="WIRE-DEC")
    payout_fail(payout=payout, reason="Returned")
    now = datetime.now(tz=UTC)
    this_month = date(now.year, now.month, 1)

    statement = statement_for(publisher=pixelpush, period=this_month)

    assert [(m.kind, m.amount, m.payout_id) for m in statement.movements] == [
        ("payout", "-100.00", payout.pk),
        ("payout_failed", "100.00", payout.pk),
    ]


def test_a_statement_pdf_reads_like_the_csv_and_spans_pages(shoes: Offer, pixelpush: Publisher) -> None:
    lead = shoes.goals.get(code="lead")
    for n in range(90):
        CommissionFactory(offer=shoes, goal=lead, publisher=pixelpush, day=date(2024, 1, 1 + n % 28))
    Publisher.objects.filter(pk=pixelpush.pk).update(name="Pixel Push Łódź Média")
    pixelpush.refresh_from_db()

    pages, text = pdf_text(statement_pdf(statement_for(publisher=pixelpush, period=JAN)))

    assert pages >= 3
    assert "Statement 2024-01" in text
    assert "Pixel Push Łódź Média" in text
    assert text.count("Acme Shoes - Summer Sale") == 90
    assert "Commissions (90)" in text
