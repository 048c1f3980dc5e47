"""An advertiser's invoice for one period: the approved revenue of its commissions of that
period, one line per offer x goal x currency, with totals per currency.

Commissions reversed or rejected since are not billed; a later invoice of the same period
reflects the current statuses (the ledger keeps the history).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from affiliates.models import Advertiser
from payouts.exports.pdf import Document
from payouts.exports.tabular import amount_text, csv_bytes
from payouts.models import Commission, CommissionStatus
from payouts.periods import period_label, period_next


@dataclass(frozen=True)
class InvoiceLine:
    offer_id: int
    offer: str
    goal: str
    currency: str
    commissions: int
    quantity: int
    revenue: str


@dataclass
class Invoice:
    number: str
    advertiser_id: int
    advertiser: str
    period: str
    issued_on: date
    lines: list[InvoiceLine] = field(default_factory=list)
    totals: dict[str, str] = field(default_factory=dict)


def invoice_for(*, advertiser: Advertiser, period: date) -> Invoice:
    invoice = Invoice(
        # Stable per advertiser and period, so a re-issued invoice keeps its number.
        number=f"INV-{advertiser.pk:05d}-{period:%Y%m}",
        advertiser_id=advertiser.pk,
        advertiser=advertiser.name,
        period=period_label(period),
        issued_on=timezone.now().date(),
    )
    rows = (
        Commission.objects.filter(
            advertiser=advertiser,
            status=CommissionStatus.APPROVED,
            day__gte=period,
            day__lt=period_next(period),
        )
        .values_list("offer_id", "offer__name", "goal__code", "currency")
        .annotate(commissions=Count("id"), quantity=Sum("quantity"), revenue=Sum("revenue"))
        .order_by("currency", "offer__name", "offer_id", "goal__code")
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for offer_id, offer, goal, currency, count, quantity, revenue in rows:
        totals[currency] += revenue
        invoice.lines.append(
            InvoiceLine(
                offer_id=offer_id,
                offer=offer,
                goal=goal,
                currency=currency,
                commissions=count,
                quantity=quantity,
                revenue=amount_text(revenue, currency),
            )
        )
    invoice.totals = {cur: amount_text(total, cur) for cur, total in sorted(totals.items())}
    return invoice


def invoice_csv(invoice: Invoice) -> bytes:
    header = (
        "invoice",
        "period",
        "advertiser",
        "offer_id",
        "offer",
        "goal",
        "commissions",
        "quantity",
        "currency",
        "revenue",
    )
    rows: list[tuple[object, ...]] = [
        (
            invoice.number,
            invoice.period,
            invoice.advertiser,
            ln.offer_id,
            ln.offer,
            ln.goal,
            ln.commissions,
            ln.quantity,
            ln.currency,
            ln.revenue,
        )
        for ln in invoice.lines
    ]
    rows += [
        (invoice.number, invoice.period, invoice.advertiser, "", "TOTAL", "", "", "", cur, total)
        for cur, total in invoice.totals.items()
    ]
    return csv_bytes(header, rows)


def invoice_pdf(invoice: Invoice) -> bytes:
    doc = Document(title=f"Invoice {invoice.number}")
    doc.lines(
        [
            ("Bill to", f"{invoice.advertiser} (#{invoice.advertiser_id})"),
            ("Period", invoice.period),
            ("Issued", f"{invoice.issued_on:%Y-%m-%d}"),
        ]
    )
    doc.heading("Approved revenue")
    doc.table(
        ("Offer", "Goal", "Commissions", "Quantity", "Currency", "Amount"),
        [(ln.offer, ln.goal, ln.commissions, ln.quantity, ln.currency, ln.revenue) for ln in invoice.lines],
        (110, 35, 30, 30, 25, 40),
    )
    doc.heading("Total due")
    doc.table(("Currency", "Amount"), list(invoice.totals.items()), (30, 50))
    return doc.output()


def invoice_file_name(invoice: Invoice, ext: str) -> str:
    return f"invoice-{invoice.advertiser_id}-{invoice.period}.{ext}"
