"""Invoices, credit notes and statements: issued once, numbered without gaps, frozen at issue."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from pypdf import PdfReader

from affiliates.core.errors import Conflict, DomainError
from affiliates.models import Advertiser, Offer, Publisher
from affiliates.roles import actor_for
from payouts.advertiser_payments import advertiser_balances, advertiser_payment_record
from payouts.documents import invoice_issue, statement_issue
from payouts.exports.documents import document_csv, document_pdf
from payouts.models import Commission, Document, DocumentFrozen, DocumentItem, DocumentLine, Transaction
from payouts.reconcile import conversions_reconcile
from payouts.services import commissions_set_status
from payouts.tests.helpers import convert

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def issuer(settings: Any) -> None:
    settings.ISSUER_LEGAL_NAME = "Affnet Networks Ltd"
    settings.ISSUER_ADDRESS = "1 Grand Canal Square\nDublin D02 P820"
    settings.ISSUER_COUNTRY = "IE"
    settings.ISSUER_TAX_ID = "IE6388047V"
    settings.ISSUER_BANK_DETAILS = "IBAN IE29 AIBK 9311 5212 3456 78\nBIC AIBKIE2D"
    settings.INVOICE_PAYMENT_TERMS_DAYS = 30


def sale(
    offer: Offer, publisher: Publisher, amount: str, *, day: date, status: str = "approved"
) -> Commission:
    conversion = convert(offer, publisher, amount=amount, status=status, at=at(day))
    conversions_reconcile()
    return Commission.objects.get(conversion=conversion)


def set_status(commission: Commission, status: str, staff: Any) -> None:
    commissions_set_status(
        commission_ids=[commission.pk], status=status, reason="test", actor=actor_for(staff)
    )


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_an_invoice_is_issued_once_per_advertiser_and_period_with_gap_free_numbers(
    shoes: Offer, pixelpush: Publisher, globex: Advertiser
) -> None:
    sale(shoes, pixelpush, "100.00", day=JAN)  # 12% revenue: 12.00
    sale(shoes, pixelpush, "50.00", day=JAN)
    other = Offer.objects.create(
        advertiser=globex, name="Globex", landing_url="https://g.example/", currency="EUR"
    )
    other.goals.create(
        code="sale",
        name="Sale",
        payout_type="cps",
        payout=Decimal("5"),
        revenue=Decimal("10"),
        is_default=True,
    )
    sale(other, pixelpush, "80.00", day=JAN)

    first = invoice_issue(advertiser=shoes.advertiser, period=JAN)
    again = invoice_issue(advertiser=shoes.advertiser, period=JAN)
    second = invoice_issue(advertiser=globex, period=JAN)

    assert first.created
    assert not again.created
    assert first.main is not None
    assert again.main == first.main
    assert second.main is not None
    assert (first.main.number_text, second.main.number_text) == ("INV-000001", "INV-000002")
    assert first.main.totals == {"USD": "18.00"}
    assert [(ln.goal, ln.commissions, ln.amount) for ln in first.main.lines.all()] == [
        ("sale", 2, Decimal("18.00"))
    ]
    assert Document.objects.filter(kind="invoice").count() == 2


def test_a_failed_issue_gives_its_number_back(shoes: Offer, pixelpush: Publisher, globex: Advertiser) -> None:
    sale(shoes, pixelpush, "100.00", day=JAN)

    with (
        mock.patch.object(DocumentLine.objects, "bulk_create", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        invoice_issue(advertiser=shoes.advertiser, period=JAN)
    issued = invoice_issue(advertiser=shoes.advertiser, period=JAN)

    assert issued.main is not None
    assert issued.main.number == 1


def test_revenue_approved_after_an_invoice_goes_on_the_next_one(
    shoes: Offer, pixelpush: Publisher, nadia: Any
) -> None:
    sale(shoes, pixelpush, "100.00", day=JAN)
    late = sale(shoes, pixelpush, "200.00", day=JAN, status="pending")
    january = invoice_issue(advertiser=shoes.advertiser, period=JAN).main
    set_status(late, "approved", nadia)

    february = invoice_issue(advertiser=shoes.advertiser, period=FEB).main

    assert january is not None
    assert february is not None
    assert january.totals == {"USD": "12.00"}
    assert february.totals == {"USD": "24.00"}
    assert DocumentItem.objects.get(commission=late).document == february
    with pytest.raises(Conflict) as closed:
        invoice_issue(advertiser=shoes.advertiser, period=date(2023, 12, 1))
    assert closed.value.code == "period_closed"


def test_each_commission_is_billed_at_most_once_by_a_constraint(shoes: Offer, pixelpush: Publisher) -> None:
    commission = sale(shoes, pixelpush, "100.00", day=JAN)
    invoice = invoice_issue(advertiser=shoes.advertiser, period=JAN).main

    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentItem.objects.create(
            document=invoice, commission=commission, role="billed", amount=Decimal("12"), currency="USD"
        )


def test_an_issued_document_refuses_changes_in_the_model_and_in_the_database(
    shoes: Offer, pixelpush: Publisher
) -> None:
    sale(shoes, pixelpush, "100.00", day=JAN)
    invoice = invoice_issue(advertiser=shoes.advertiser, period=JAN).main
    assert invoice is not None

    invoice.totals = {"USD": "1.00"}
    with pytest.raises(DocumentFrozen):
        invoice.save()
    with pytest.raises(DocumentFrozen):
        Document.objects.filter(pk=invoice.pk).update(totals={})
    with pytest.raises(DocumentFrozen):
        DocumentLine.objects.filter(document=invoice).delete()
    statements = ["UPDATE payouts_document SET number = 99", "UPDATE payouts_documentline SET amount = 99"]
    if connection.vendor == "postgresql":  # SQLite keeps DELETE for its test flush; PROTECT guards the ORM
        statements += ["DELETE FROM payouts_documentline", "DELETE FROM payouts_documentitem"]
    for sql in statements:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    invoice.refresh_from_db()
    assert invoice.totals == {"USD": "12.00"}


def test_an_invoice_is_frozen_at_issue(shoes: Offer, pixelpush: Publisher) -> None:
    sale(shoes, pixelpush, "100.00", day=JAN)
    invoice = invoice_issue(advertiser=shoes.advertiser, period=JAN).main
    assert invoice is not None
    before = pdf_text(document_pdf(invoice))

    Offer.objects.filter(pk=shoes.pk).update(name="Renamed offer")
    Advertiser.objects.filter(pk=shoes.advertiser_id).update(name="Renamed Inc", address="Elsewhere 9")

    after = pdf_text(document_pdf(Document.objects.get(pk=invoice.pk)))
    assert after == before
    assert "Acme Shoes - Summer Sale" in after
    assert "Renamed" not in after


def test_a_reversal_after_invoicing_produces_a_credit_note(
    shoes: Offer, pixelpush: Publisher, nadia: Any
) -> None:
    refunded = sale(shoes, pixelpush, "100.00", day=JAN)
    invoice = invoice_issue(advertiser=shoes.advertiser, period=JAN).main
    set_status(refunded, "reversed", nadia)
    sale(shoes, pixelpush, "50.00", day=FEB)

    february = invoice_issue(advertiser=shoes.advertiser, period=FEB)

    assert invoice is not None
    assert february.main is not None
    assert february.credit_note is not None
    note = february.credit_note
    assert (note.number_text, note.totals) == ("CN-000001", {"USD": "-12.00"})
    assert february.main.totals == {"USD": "6.00"}
    assert note.items.get().original == invoice
    text = pdf_text(document_pdf(note))
    assert "Credit note CN-000001" in text
    assert "INV-000001" in text
    # Credited once: the next month has nothing more to take back.
    sale(shoes, pixelpush, "10.00", day=MAR)
    assert invoice_issue(advertiser=shoes.advertiser, period=MAR).credit_note is None


def test_recording_payments_settles_the_receivable_until_the_balance_is_zero(
    shoes: Offer, pixelpush: Publisher, nadia: Any
) -> None:
    refunded = sale(shoes, pixelpush, "100.00", day=JAN)
    sale(shoes, pixelpush, "50.00", day=JAN)
    invoice = invoice_issue(advertiser=shoes.advertiser, period=JAN).main
    set_status(refunded, "reversed", nadia)
    assert advertiser_balances(advertiser_id=shoes.advertiser_id) == {"USD": Decimal("6.00")}

    payment, created = advertiser_payment_record(
        advertiser=shoes.advertiser, currency="USD", amount=Decimal("6.00"), reference="WIRE-1",
        received_on=date(2024, 2, 20), document=invoice,
    )  # fmt: skip
    repeat, again = advertiser_payment_record(
        advertiser=shoes.advertiser, currency="USD", amount=Decimal("6.00"), reference="WIRE-1",
        received_on=date(2024, 2, 20),
    )  # fmt: skip

    assert created
    assert not again
    assert repeat == payment
    assert advertiser_balances(advertiser_id=shoes.advertiser_id) == {"USD": Decimal("0.00")}
    assert Transaction.objects.filter(kind="advertiser_payment").count() == 1
    with pytest.raises(Conflict):
        advertiser_payment_record(
            advertiser=shoes.advertiser, currency="USD", amount=Decimal("7.00"), reference="WIRE-1",
            received_on=date(2024, 2, 20),
        )  # fmt: skip
    with pytest.raises(DomainError):
        advertiser_payment_record(
            advertiser=shoes.advertiser, currency="USD", amount=Decimal("1.005"), reference="WIRE-2",
            received_on=date(2024, 2, 20),
        )  # fmt: skip


def test_a_statement_is_issued_once_and_takes_back_a_later_reversal_on_the_next(
    shoes: Offer, pixelpush: Publisher, nadia: Any
) -> None:
    refunded = sale(shoes, pixelpush, "100.00", day=JAN)  # 8% payout: 8.00
    january = statement_issue(publisher=pixelpush, period=JAN).main
    set_status(refunded, "reversed", nadia)
    sale(shoes, pixelpush, "50.00", day=FEB)

    february = statement_issue(publisher=pixelpush, period=FEB).main

    assert january is not None
    assert february is not None
    assert (january.number_text, january.totals) == ("ST-000001", {"USD": "8.00"})
    assert (february.number_text, february.totals) == ("ST-000002", {"USD": "-4.00"})
    assert [ln.amount for ln in february.lines.all()] == [Decimal("4.00"), Decimal("-8.00")]
    assert statement_issue(publisher=pixelpush, period=FEB).main == february


def test_issuing_refuses_an_open_period_and_an_incomplete_issuer(
    shoes: Offer, pixelpush: Publisher, settings: Any
) -> None:
    today = datetime.now(tz=UTC).date().replace(day=1)
    with pytest.raises(DomainError) as open_period:
        invoice_issue(advertiser=shoes.advertiser, period=today)
    settings.ISSUER_TAX_ID = ""
    sale(shoes, pixelpush, "100.00", day=JAN)
    with pytest.raises(DomainError) as incomplete:
        invoice_issue(advertiser=shoes.advertiser, period=JAN)

    assert (open_period.value.code, incomplete.value.code) == ("period_open", "issuer_incomplete")


def test_the_pdf_has_what_an_accountant_checks(shoes: Offer, pixelpush: Publisher) -> None:
    Advertiser.objects.filter(pk=shoes.advertiser_id).update(
        legal_name="Acme Shoes GmbH",
        address="Schuhstrasse 1\n10115 Berlin",
        country="DE",
        tax_id="DE136695976",
    )
    sale(shoes, pixelpush, "100.00", day=JAN)
    invoice = invoice_issue(advertiser=Advertiser.objects.get(pk=shoes.advertiser_id), period=JAN).main
    assert invoice is not None

    text = pdf_text(document_pdf(invoice))

    for expected in (
        "Invoice INV-000001", "Affnet Networks Ltd", "1 Grand Canal Square", "IE6388047V",
        "Acme Shoes GmbH", "Schuhstrasse 1", "DE136695976", "Issue date:", "Period: 2024-01-01 to 2024-01-31",
        "Due date:", "net 30 days", "12.00", "IBAN IE29 AIBK 9311 5212 3456 78", "Reverse charge",
    ):  # fmt: skip
        assert expected in text, expected
    assert invoice.vat_treatment == "reverse_charge"
    assert document_csv(invoice).decode().splitlines()[-1].endswith("TOTAL,,,,,USD,12.00")


def test_a_domestic_or_non_eu_customer_gets_no_reverse_charge(shoes: Offer, pixelpush: Publisher) -> None:
    Advertiser.objects.filter(pk=shoes.advertiser_id).update(country="US", tax_id="12-3456789")
    sale(shoes, pixelpush, "100.00", day=JAN)
    invoice = invoice_issue(advertiser=Advertiser.objects.get(pk=shoes.advertiser_id), period=JAN).main

    assert invoice is not None
    assert invoice.vat_treatment == "outside_scope"
    assert "Reverse charge" not in pdf_text(document_pdf(invoice))


def test_totals_in_other_currencies_show_the_rate_used(shoes: Offer, pixelpush: Publisher) -> None:
    from affiliates.models import FxRate

    Advertiser.objects.filter(pk=shoes.advertiser_id).update(currency="EUR")
    FxRate.objects.create(
        base="EUR", quote="USD", rate=Decimal("1.25"), valid_from=datetime(2024, 1, 2, tzinfo=UTC)
    )
    FxRate.objects.create(
        base="EUR", quote="USD", rate=Decimal("2"), valid_from=datetime(2024, 3, 1, tzinfo=UTC)
    )
    sale(shoes, pixelpush, "100.00", day=JAN)

    invoice = invoice_issue(advertiser=Advertiser.objects.get(pk=shoes.advertiser_id), period=JAN).main

    assert invoice is not None
    assert invoice.fx_rates == [
        {
            "from": "USD", "to": "EUR", "base": "EUR", "quote": "USD", "rate": "1.25",
            "valid_from": "2024-01-02T00:00:00+00:00", "basis": "in force at the period end",
        }
    ]  # fmt: skip
    assert invoice.converted_total == {"currency": "EUR", "amount": "9.60"}
    assert "1 EUR = 1.25 USD" in pdf_text(document_pdf(invoice))


def test_the_monthly_job_issues_every_party_once(
    shoes: Offer, pixelpush: Publisher, rival: Publisher
) -> None:
    from django.core.management import call_command

    sale(shoes, pixelpush, "100.00", day=JAN)
    sale(shoes, rival, "50.00", day=JAN)
    out = io.StringIO()

    call_command("issue_documents", "--period", "2024-01", stdout=out)
    call_command("issue_documents", "--period", "2024-01", stdout=out)

    first, second = out.getvalue().splitlines()
    assert first.startswith("2024-01: 1 invoices, 0 credit notes, 2 statements issued")
    assert second.startswith("2024-01: 0 invoices, 0 credit notes, 0 statements issued")
    assert sorted(Document.objects.values_list("series", "number")) == [("INV", 1), ("ST", 1), ("ST", 2)]
