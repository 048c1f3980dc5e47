"""A publisher's statement for one payout: the approved commissions of its period, as CSV or PDF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum

from affiliates.core.spreadsheet import csv_text
from payouts.models import Commission, CommissionStatus, Payout


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def statement_lines(payout: Payout) -> QuerySet[Commission]:
    """The approved commissions of the payout's publisher, currency and month."""
    return (
        Commission.objects.filter(
            publisher_id=payout.publisher_id,
            currency=payout.currency,
            status=CommissionStatus.APPROVED,
            day__gte=payout.period,
            day__lt=_next_month(payout.period),
        )
        .select_related("offer", "goal")
        .order_by("day", "id")
    )


def statement_csv(payout: Payout) -> str:
    """The statement's lines, a blank line, then the payout's summary (affiliates.core.spreadsheet:
    offer names and goal codes are written by advertisers)."""
    lines = [
        [
            c.day,
            c.offer_id,
            c.offer.name,
            c.goal.code,
            c.kind,
            c.quantity,
            c.sale_amount or "",
            c.payout,
            c.currency,
        ]
        for c in statement_lines(payout)
    ]
    summary = [
        "payout",
        payout.pk,
        "period",
        payout.period.strftime("%Y-%m"),
        "amount",
        payout.amount,
        payout.currency,
    ]
    header = ["day", "offer_id", "offer", "goal", "kind", "quantity", "sale_amount", "payout", "currency"]
    return csv_text(header, [*lines, [], summary])


def statement_pdf(payout: Payout) -> bytes:
    """A one-table PDF with fpdf2's core font; text outside Latin-1 is replaced, not dropped."""
    from fpdf import FPDF

    def latin(text: object) -> str:
        return str(text).encode("latin-1", "replace").decode("latin-1")

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, latin(f"Statement {payout.period:%B %Y}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        0,
        6,
        latin(f"{payout.publisher.name} - payout #{payout.pk} ({payout.status})"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    widths = (24, 80, 30, 18, 34)
    pdf.set_font("Helvetica", "B", 9)
    for w, title in zip(widths, ("Day", "Offer", "Goal", "Qty", "Payout"), strict=True):
        pdf.cell(w, 7, title, border="B")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    lines = statement_lines(payout)
    for c in lines:
        cells = (str(c.day), c.offer.name[:48], c.goal.code, str(c.quantity), f"{c.payout:,.2f} {c.currency}")
        for w, text in zip(widths, cells, strict=True):
            pdf.cell(w, 6, latin(text))
        pdf.ln()
    total = lines.aggregate(t=Sum("payout"))["t"] or Decimal("0")
    pdf.set_font("Helvetica", "B", 10)
    pdf.ln(2)
    pdf.cell(
        0,
        7,
        latin(
            f"Commissions: {total:,.2f} {payout.currency}    Payout: {payout.amount:,.2f} {payout.currency}"
        ),
    )
    return bytes(pdf.output())
