"""Issued documents (invoices, credit notes, statements) as JSON data, CSV and PDF.

Everything printed comes from the document's own frozen fields and lines, never from the live
advertiser, publisher, offer or FX tables, so a document renders the same every time.
"""

from __future__ import annotations

import calendar
from decimal import Decimal
from typing import Any

from payouts.exports.pdf import Document as PdfDocument
from payouts.exports.tabular import amount_text, csv_bytes
from payouts.models import Document, DocumentItem

TITLES = {
    Document.Kind.INVOICE: "Invoice",
    Document.Kind.CREDIT_NOTE: "Credit note",
    Document.Kind.STATEMENT: "Self-billing statement",
}
_PARTY_LABEL = {
    Document.Kind.INVOICE: "Bill to",
    Document.Kind.CREDIT_NOTE: "Credit to",
    Document.Kind.STATEMENT: "Statement for (supplier)",
}


def document_data(doc: Document) -> dict[str, Any]:
    """The document as the JSON API returns it."""
    return {
        "id": doc.pk,
        "kind": doc.kind,
        "number": doc.number_text,
        "advertiser": doc.advertiser_id,
        "publisher": doc.publisher_id,
        "period": f"{doc.period:%Y-%m}",
        "issued_at": doc.issued_at.isoformat(),
        "issue_date": doc.issue_date.isoformat(),
        "due_date": doc.due_date.isoformat() if doc.due_date else None,
        "payment_terms_days": doc.payment_terms_days,
        "issuer": doc.issuer,
        "customer": doc.customer,
        "lines": [
            {
                "position": ln.position,
                "description": ln.description,
                "offer_id": ln.offer_id_ref,
                "goal": ln.goal,
                "commissions": ln.commissions,
                "quantity": ln.quantity,
                "currency": ln.currency,
                "amount": amount_text(ln.amount, ln.currency),
            }
            for ln in doc.lines.all()
        ],
        "totals": doc.totals,
        "fx_rates": doc.fx_rates,
        "converted_total": doc.converted_total,
        "vat_treatment": doc.vat_treatment,
        "vat_note": doc.vat_note,
        "vat_rate": None if doc.vat_rate is None else str(doc.vat_rate),
        "vat_totals": doc.vat_totals,
        "payout_details": doc.payout_details,
        "credits": credited_numbers(doc),
    }


def credited_numbers(doc: Document) -> list[str]:
    """The documents a credit note (or a statement's reversal lines) takes amounts back from."""
    originals = Document.objects.filter(
        pk__in=DocumentItem.objects.filter(document=doc, original__isnull=False).values("original_id")
    ).order_by("series", "number")
    return [d.number_text for d in originals]


def document_file_name(doc: Document, ext: str) -> str:
    return f"{doc.number_text}.{ext}"


def document_csv(doc: Document) -> bytes:
    header = (
        "document",
        "kind",
        "period",
        "line",
        "description",
        "offer_id",
        "goal",
        "commissions",
        "quantity",
        "currency",
        "amount",
    )
    base = (doc.number_text, doc.kind, f"{doc.period:%Y-%m}")
    rows: list[tuple[object, ...]] = [
        (
            *base,
            ln.position,
            ln.description,
            ln.offer_id_ref,
            ln.goal,
            ln.commissions,
            ln.quantity,
            ln.currency,
            amount_text(ln.amount, ln.currency),
        )
        for ln in doc.lines.all()
    ]
    rows += [(*base, "", "TOTAL", "", "", "", "", cur, total) for cur, total in doc.totals.items()]
    for cur, vat in (doc.vat_totals or {}).items():
        rows.append((*base, "", f"VAT {_percent(doc.vat_rate)}%", "", "", "", "", cur, vat["vat"]))
        rows.append((*base, "", "TOTAL INCLUDING VAT", "", "", "", "", cur, vat["gross"]))
    return csv_bytes(header, rows)


def _period_text(doc: Document) -> str:
    last = calendar.monthrange(doc.period.year, doc.period.month)[1]
    return f"{doc.period:%Y-%m-01} to {doc.period:%Y-%m}-{last:02d}"


def _party_lines(party: dict[str, Any], *, tax_label: str = "VAT / tax id") -> list[str]:
    lines = [str(party.get("name") or "")]
    lines += [ln for ln in str(party.get("address") or "").splitlines() if ln.strip()]
    if party.get("country"):
        lines.append(f"Country: {party['country']}")
    lines.append(f"{tax_label}: {party.get('tax_id') or 'not on file'}")
    return lines


def _facts(doc: Document) -> list[str]:
    facts = [
        f"Number: {doc.number_text}",
        f"Issue date: {doc.issue_date:%Y-%m-%d}",
        f"Period: {_period_text(doc)}",
    ]
    if doc.kind == Document.Kind.INVOICE:
        facts += [f"Due date: {doc.due_date:%Y-%m-%d}", f"Payment terms: net {doc.payment_terms_days} days"]
    elif doc.kind == Document.Kind.CREDIT_NOTE:
        facts.append("Credits: " + (", ".join(credited_numbers(doc)) or "-"))
    else:
        facts.append("Paid by the payout run of the period")
    return facts


def document_pdf(doc: Document) -> bytes:
    title = TITLES[Document.Kind(doc.kind)]
    pdf = PdfDocument(title=f"{title} {doc.number_text}", orientation="portrait")
    top = pdf.pdf.get_y() + 2
    below_issuer = pdf.block(_party_lines(doc.issuer), x=10, y=top, width=100, bold_first=True)
    below_facts = pdf.block(_facts(doc), x=120, y=top, width=80)
    y = max(below_issuer, below_facts) + 5
    pdf.pdf.set_xy(10, y)
    pdf.heading(_PARTY_LABEL[Document.Kind(doc.kind)])
    pdf.block(_party_lines(doc.customer), x=10, y=pdf.pdf.get_y(), width=120, bold_first=True)
    pdf.pdf.ln(4)
    _lines(pdf, doc)
    _totals(pdf, doc)
    _payment(pdf, doc)
    return pdf.output()


def _lines(pdf: PdfDocument, doc: Document) -> None:
    pdf.heading("Lines")
    pdf.table(
        ("Description", "Goal", "Items", "Quantity", "Currency", "Amount"),
        [
            (
                ln.description,
                ln.goal,
                ln.commissions,
                ln.quantity,
                ln.currency,
                amount_text(ln.amount, ln.currency),
            )
            for ln in doc.lines.all()
        ],
        (82, 22, 16, 20, 20, 30),
        ("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT", "RIGHT"),
    )


def _percent(rate: Decimal | None) -> str:
    return "" if rate is None else f"{Decimal(rate).normalize():f}"


_NO_VAT: dict[str, str] = {
    Document.VatTreatment.REVERSE_CHARGE: "0.00 (reverse charge)",
    Document.VatTreatment.OUTSIDE_SCOPE: "0.00 (outside the scope)",
}


def _totals(pdf: PdfDocument, doc: Document) -> None:
    pdf.heading("Totals")
    rows = []
    for cur, total in doc.totals.items():
        vat = (doc.vat_totals or {}).get(cur)
        if vat:
            rows.append((cur, total, f"{vat['vat']} ({_percent(doc.vat_rate)}%)", vat["gross"]))
        else:
            rows.append((cur, total, _NO_VAT.get(doc.vat_treatment, "not included"), total))
    pdf.table(
        ("Currency", "Net amount", "VAT", "Total"), rows, (25, 40, 55, 40), ("LEFT", "RIGHT", "LEFT", "RIGHT")
    )
    if doc.fx_rates:
        pdf.lines(
            [
                (
                    f"FX rate used ({r['from']} to {r['to']})",
                    f"1 {r['base']} = {r['rate']} {r['quote']}, in force since {r['valid_from'][:10]}"
                    + (f"; {r['basis']}" if r.get("basis") else ""),
                )
                for r in doc.fx_rates
            ]
        )
    if doc.converted_total:
        converted = doc.converted_total
        text = f"{converted['amount']} (at the rates above)"
        if converted.get("gross"):
            vat, gross = converted["vat"], converted["gross"]
            text = f"{converted['amount']} + {vat} VAT = {gross} (at the rates above)"
        pdf.lines([("Total in " + converted["currency"], text)])
    pdf.lines([("VAT", doc.vat_note)])


def _payment(pdf: PdfDocument, doc: Document) -> None:
    if doc.kind == Document.Kind.STATEMENT:
        pdf.heading("Payout details")
        details = doc.payout_details or {}
        held = [(str(k).replace("_", " ").capitalize(), v) for k, v in details.items()]
        pdf.lines(held or [("Payout details", "none on file: payouts are held until they are given")])
        pdf.lines([("Self-billing", f"issued by {doc.issuer.get('name')} on behalf of the supplier.")])
        return
    if doc.kind == Document.Kind.CREDIT_NOTE:
        pdf.heading("Settlement")
        pdf.lines([("Settlement", "Deducted from what you owe us, or refunded on request.")])
        return
    pdf.heading("Payment details")
    bank = [ln for ln in str(doc.issuer.get("bank_details") or "").splitlines() if ln.strip()]
    pairs: list[tuple[str, object]] = [("Bank", ln) for ln in bank] or [("Bank", "see your account manager")]
    pairs.append(("Reference", f"Please quote {doc.number_text} with your payment."))
    pdf.lines(pairs)
