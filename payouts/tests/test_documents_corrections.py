"""What changes after a document was issued reaches the next document, never the issued one:
daily lines shrunk or grown after invoicing, credit notes at the invoice's FX rate, and
domestic VAT frozen at issue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from affiliates.core.errors import DomainError
from affiliates.models import FxRate, Goal, Offer, Publisher
from affiliates.tests import factories as f
from payouts.documents import documents_issue_month, invoice_issue, statement_issue
from payouts.exports.documents import document_csv, document_pdf
from payouts.models import Commission, Document, DocumentItem
from payouts.tests.test_documents import FEB, JAN, MAR, at, pdf_text, sale, set_status
from payouts.traffic import traffic_invalidate, traffic_reconcile
from tracking.ids import new_click_id
from tracking.models import Click

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def issuer(settings: Any) -> None:
    settings.ISSUER_LEGAL_NAME = "Affnet Networks Ltd"
    settings.ISSUER_ADDRESS = "1 Grand Canal Square\nDublin D02 P820"
    settings.ISSUER_COUNTRY = "IE"
    settings.ISSUER_TAX_ID = "IE6388047V"
    settings.ISSUER_BANK_DETAILS = "IBAN IE29 AIBK 9311 5212 3456 78\nBIC AIBKIE2D"
    settings.ISSUER_VAT_RATES = {"IE": Decimal("23")}


def _clicks(offer: Offer, publisher: Publisher, n: int, when: datetime) -> list[str]:
    ids = []
    for i in range(n):
        t = when + timedelta(seconds=i)
        ids.append(
            Click.objects.create(
                id=new_click_id(int(t.timestamp() * 1000)), created_at=t, offer=offer, publisher=publisher
            ).pk
        )
    return ids


@pytest.fixture
def cpc_line(shoes: Offer, pixelpush: Publisher, nadia: Any) -> tuple[Commission, list[str]]:
    """An approved CPC line of January: 10 clicks at 0.10 revenue and 0.06 payout."""
    f.GoalFactory(
        offer=shoes,
        code="click",
        payout_type=Goal.PayoutType.CPC,
        payout=Decimal("0.06"),
        revenue=Decimal("0.10"),
    )
    ids = _clicks(shoes, pixelpush, 10, at(JAN))
    traffic_reconcile(day_from=at(JAN).date(), day_to=at(JAN).date())
    line = Commission.objects.get(kind="cpc")
    set_status(line, "approved", nadia)
    return Commission.objects.get(pk=line.pk), ids


def _frozen(doc: Document) -> tuple[Any, ...]:
    doc.refresh_from_db()
    items = sorted(DocumentItem.objects.filter(document=doc).values_list("commission_id", "role", "amount"))
    return (
        doc.totals,
        doc.converted_total,
        doc.vat_totals,
        list(doc.lines.values_list("amount", flat=True)),
        items,
    )


def test_a_line_shrunk_after_invoicing_is_credited_on_the_next_credit_note(
    shoes: Offer, cpc_line: Any, nadia: Any
) -> None:
    line, ids = cpc_line
    january = invoice_issue(advertiser=shoes.advertiser, period=JAN).main
    assert january is not None
    assert january.totals == {"USD": "1.00"}
    before = _frozen(january)

    traffic_invalidate(click_ids=ids[:3], reason="bot farm", actor="staff:1")
    assert Commission.objects.get(pk=line.pk).revenue == Decimal("0.70")

    february = invoice_issue(advertiser=shoes.advertiser, period=FEB)
    assert february.main is None  # nothing more to bill
    credit = february.credit_note
    assert credit is not None
    assert credit.totals == {"USD": "-0.30"}
    assert [(ln.description, ln.quantity) for ln in credit.lines.all()] == [
        (f"Changed after {january.number_text}: Acme Shoes - Summer Sale - Click", -3)
    ]
    assert _frozen(january) == before  # the issued invoice never changes

    # Reversed later: the credit is what is still billed (1.00 - 0.30), not the first amount.
    set_status(Commission.objects.get(pk=line.pk), "reversed", nadia)
    march = invoice_issue(advertiser=shoes.advertiser, period=MAR).credit_note
    assert march is not None
    assert march.totals == {"USD": "-0.70"}
    assert [ln.quantity for ln in march.lines.all()] == [-7]  # the 7 clicks still billed
    carried = DocumentItem.objects.filter(commission=line).values_list("amount", "quantity")
    assert (sum(a for a, _ in carried), sum(q for _, q in carried)) == (0, 0)


def test_a_line_grown_by_late_clicks_after_invoicing_goes_on_the_next_invoice(
    shoes: Offer, pixelpush: Publisher, cpc_line: Any
) -> None:
    line, _ = cpc_line
    january = invoice_issue(advertiser=shoes.advertiser, period=JAN).main
    assert january is not None
    before = _frozen(january)
    statement_issue(publisher=pixelpush, period=JAN)

    _clicks(shoes, pixelpush, 4, at(JAN) + timedelta(hours=2))  # replayed from a spool, late
    traffic_reconcile(day_from=at(JAN).date(), day_to=at(JAN).date())
    assert Commission.objects.get(pk=line.pk).quantity == 14

    february = invoice_issue(advertiser=shoes.advertiser, period=FEB)
    assert february.credit_note is None
    assert february.main is not None
    assert february.main.totals == {"USD": "0.40"}
    grown = february.main.lines.get()
    assert grown.description == f"Changed after {january.number_text}: Acme Shoes - Summer Sale - Click"
    assert grown.quantity == 4  # the late clicks, not 0
    assert _frozen(january) == before
    statement = statement_issue(publisher=pixelpush, period=FEB).main
    assert statement is not None
    assert statement.totals == {"USD": "0.24"}  # 4 x 0.06, on the publisher's next statement
    assert [ln.quantity for ln in statement.lines.all()] == [4]
    # Issuing again adds nothing: the change is carried once.
    assert not invoice_issue(advertiser=shoes.advertiser, period=FEB).created


def test_a_credit_note_converts_at_the_rate_of_the_invoice_it_credits(
    shoes: Offer, pixelpush: Publisher, nadia: Any
) -> None:
    advertiser = shoes.advertiser
    advertiser.currency = "EUR"
    advertiser.save()
    FxRate.objects.create(
        base="EUR", quote="USD", rate=Decimal("1.25"), valid_from=datetime(2024, 1, 1, tzinfo=UTC)
    )
    FxRate.objects.create(
        base="EUR", quote="USD", rate=Decimal("1.10"), valid_from=datetime(2024, 2, 15, tzinfo=UTC)
    )
    refunded = sale(shoes, pixelpush, "100.00", day=JAN)  # 12.00 USD
    january = invoice_issue(advertiser=advertiser, period=JAN).main
    assert january is not None
    assert january.converted_total == {"currency": "EUR", "amount": "9.60"}  # 12.00 / 1.25

    set_status(refunded, "reversed", nadia)
    sale(shoes, pixelpush, "50.00", day=FEB)  # 6.00 USD, at February's rate
    february = invoice_issue(advertiser=advertiser, period=FEB)

    assert february.main is not None
    assert february.main.converted_total == {"currency": "EUR", "amount": "5.45"}  # 6.00 / 1.10
    credit = february.credit_note
    assert credit is not None
    assert credit.converted_total == {"currency": "EUR", "amount": "-9.60"}  # January's rate, to the cent
    (rate,) = credit.fx_rates
    assert (rate["rate"], rate["valid_from"][:10]) == ("1.25", "2024-01-01")
    assert rate["basis"] == f"the rate of {january.number_text}, the invoice credited"
    assert f"the rate of {january.number_text}" in pdf_text(document_pdf(credit))


def test_a_domestic_invoice_charges_the_issuer_countrys_vat_frozen_at_issue(
    shoes: Offer, pixelpush: Publisher, nadia: Any, settings: Any
) -> None:
    advertiser = shoes.advertiser
    advertiser.country = "IE"
    advertiser.save()
    refunded = sale(shoes, pixelpush, "100.00", day=JAN)  # 12.00
    sale(shoes, pixelpush, "37.50", day=JAN)  # 4.50

    invoice = invoice_issue(advertiser=advertiser, period=JAN).main
    settings.ISSUER_VAT_RATES = {"IE": Decimal("21")}  # a later rate change leaves it as issued

    assert invoice is not None
    invoice.refresh_from_db()
    assert (invoice.vat_treatment, invoice.vat_rate) == ("domestic", Decimal("23.00"))
    assert invoice.vat_totals == {"USD": {"net": "16.50", "vat": "3.80", "gross": "20.30"}}
    assert invoice.vat_note == "Domestic supply in IE: VAT at 23% on the net amounts."
    text = pdf_text(document_pdf(invoice))
    assert "3.80 (23%)" in text
    assert "20.30" in text
    assert b"TOTAL INCLUDING VAT" in document_csv(invoice)

    set_status(refunded, "reversed", nadia)
    credit = invoice_issue(advertiser=advertiser, period=FEB).credit_note
    assert credit is not None
    assert credit.vat_rate == Decimal("23.00")  # the invoice's rate, not today's 21 %
    assert credit.vat_totals == {"USD": {"net": "-12.00", "vat": "-2.76", "gross": "-14.76"}}


def test_non_eu_customers_are_outside_the_scope_and_a_missing_domestic_rate_refuses(
    shoes: Offer, pixelpush: Publisher, globex: Any, settings: Any
) -> None:
    advertiser = shoes.advertiser
    advertiser.country = "US"
    advertiser.save()
    sale(shoes, pixelpush, "100.00", day=JAN)
    invoice = invoice_issue(advertiser=advertiser, period=JAN).main
    assert invoice is not None
    assert (invoice.vat_treatment, invoice.vat_rate, invoice.vat_totals) == ("outside_scope", None, {})
    assert "0.00 (outside the scope)" in pdf_text(document_pdf(invoice))

    settings.ISSUER_VAT_RATES = {}
    globex.country = "IE"
    globex.save()
    other = f.OfferFactory(advertiser=globex, currency="USD")
    f.GoalFactory(offer=other, code="sale", payout_type="cps", payout=Decimal("5"), revenue=Decimal("10"))
    sale(other, pixelpush, "80.00", day=JAN)
    with pytest.raises(DomainError) as refused:
        invoice_issue(advertiser=globex, period=JAN)
    assert refused.value.code == "vat_rate_missing"
    assert not Document.objects.filter(advertiser=globex).exists()

    # The month's job holds back only that document, says why, and issues the others.
    sale(shoes, pixelpush, "40.00", day=JAN)
    month = documents_issue_month(period=JAN)
    assert month.refused == [f"advertiser {globex.pk}: vat_rate_missing"]
    assert not Document.objects.filter(advertiser=globex).exists()
    assert month.statements >= 1


def test_a_statement_prints_how_many_clicks_a_correction_takes_back(
    pixelpush: Publisher, cpc_line: Any, tmp_path: Any
) -> None:
    _, ids = cpc_line
    january = statement_issue(publisher=pixelpush, period=JAN).main
    assert january is not None
    assert [ln.quantity for ln in january.lines.all()] == [10]

    traffic_invalidate(click_ids=ids[:3], reason="bot farm", actor="staff:1")
    february = statement_issue(publisher=pixelpush, period=FEB).main

    assert february is not None
    (line,) = february.lines.all()
    assert (line.quantity, str(line.amount)) == (-3, "-0.180000")
    text = pdf_text(document_pdf(february))
    assert f"Changed after {january.number_text}" in text
    assert "-3 USD -0.18" in " ".join(text.split())
    assert b",-3,USD,-0.18" in document_csv(february)
