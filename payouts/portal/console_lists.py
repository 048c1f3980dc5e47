"""The staff console's money lists: commissions, invoices and statements, advertiser payments,
payout runs and payouts. Each declares what it shows, sorts and filters by for the one list
helper (affiliates.portal.tables); rows are read through affiliates.roles.scope, so a narrower
staff role later narrows these pages too."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from affiliates.models import Advertiser, Offer, Publisher
from affiliates.portal.tables import Column, Filter, ListSpec, model_choices
from affiliates.roles import Actor, scope
from payouts.models import AdvertiserPayment, Commission, CommissionStatus, Document, Payout, PayoutRun

ADVERTISERS = model_choices(Advertiser.objects.all())


def _money(amount: Decimal | None, currency: str) -> str:
    """A CSV cell as the page shows it: the amount and its currency (rows mix currencies)."""
    return "" if amount is None else f"{amount} {currency}"


def _money_map(totals: dict[str, Any]) -> str:
    return "; ".join(f"{total} {cur}" for cur, total in sorted(totals.items()))


def _sent(payout: Payout) -> str:
    return _money(payout.payout_amount, payout.payout_currency)


def _payout_status(payout: Payout) -> str:
    held = f" ({payout.get_hold_reason_display()})" if payout.hold_reason else ""
    return f"{payout.get_status_display()}{held}"


def run_totals(*, run_id: int) -> dict[str, Decimal]:
    """A run's total per currency (a run pays each publisher in their own currency)."""
    rows = Payout.objects.filter(run_id=run_id).values_list("currency").annotate(total=Sum("amount"))
    return {cur: total for cur, total in rows.order_by()}


PUBLISHERS = model_choices(Publisher.objects.all())

COMMISSIONS = ListSpec(
    columns=(
        Column("created", "Created", "created_at", value="created_at"),
        Column("kind", "Kind", "kind", value="get_kind_display"),
        Column("offer", "Offer", "offer__name", value="offer.name"),
        Column("publisher", "Publisher", "publisher__name", value="publisher.name"),
        Column("status", "Status", "status", value="get_status_display"),
        Column("revenue", "Revenue", "revenue", num=True, value=lambda r: _money(r.revenue, r.currency)),
        Column("payout", "Payout", "payout", num=True, value=lambda r: _money(r.payout, r.currency)),
        Column("trace", "Trace", num=True, value=lambda r: r.conversion_id or r.source_key),
    ),
    default_sort="-created",
    search=("source_key",),
    search_lookup="exact",
    search_label="Id or source key",
    filters=(
        Filter("status", "Status", "status", CommissionStatus.choices),
        Filter("kind", "Kind", "kind", Commission.Kind.choices),
        Filter("currency", "Currency", "currency", lambda actor: _currencies(Commission)),
        Filter("advertiser", "Advertiser", "advertiser_id", ADVERTISERS),
        Filter("offer", "Offer", "offer_id", model_choices(Offer.objects.all())),
        Filter("publisher", "Publisher", "publisher_id", PUBLISHERS),
    ),
)

DOCUMENTS = ListSpec(
    columns=(
        Column("number", "Number", "number", value="number_text"),
        Column("kind", "Kind", "kind", value="get_kind_display"),
        Column("party", "Party", value=lambda r: (r.advertiser or r.publisher).name),
        Column("period", "Period", "period", value=lambda r: r.period.strftime("%B %Y")),
        Column("issued", "Issued", "issue_date", value="issue_date"),
        Column("due", "Due", "due_date", value="due_date"),
        Column("total", "Total", num=True, value=lambda r: _money_map(r.totals)),
        Column("files", "Download", num=True),
    ),
    default_sort="-issued",
    search=("advertiser__name", "publisher__name", "series"),
    search_label="Party or series (INV, CN, ST)",
    filters=(
        Filter("kind", "Kind", "kind", Document.Kind.choices),
        Filter("advertiser", "Advertiser", "advertiser_id", ADVERTISERS),
        Filter("publisher", "Publisher", "publisher_id", PUBLISHERS),
    ),
)

PAYMENTS = ListSpec(
    columns=(
        Column("received", "Received", "received_on", value="received_on"),
        Column("advertiser", "Advertiser", "advertiser__name", value="advertiser.name"),
        Column("reference", "Reference", "reference", value="reference"),
        Column("invoice", "Invoice", "document__number", value="document.number_text"),
        Column("amount", "Amount", "amount", num=True, value=lambda r: _money(r.amount, r.currency)),
    ),
    default_sort="-received",
    search=("reference", "advertiser__name"),
    search_label="Reference or advertiser",
    filters=(
        Filter("currency", "Currency", "currency", lambda actor: _currencies(AdvertiserPayment)),
        Filter("advertiser", "Advertiser", "advertiser_id", ADVERTISERS),
    ),
)

RUNS = ListSpec(
    columns=(
        Column("period", "Period", "period", value=lambda r: r.period.strftime("%B %Y")),
        Column("status", "Status", "status", value="get_status_display"),
        Column("payouts", "Payouts", "n", num=True, value="n"),
        Column("total", "Total", num=True, value=lambda r: _money_map(run_totals(run_id=r.pk))),
        Column("created", "Started", "created_at", value="created_at"),
        Column("approved", "Approved", "approved_at", value="approved_at"),
        Column("paid", "Paid", "paid_at", value="paid_at"),
    ),
    default_sort="-period",
    filters=(Filter("status", "Status", "status", PayoutRun.Status.choices),),
)

PAYOUTS = ListSpec(
    columns=(
        Column("period", "Period", "period", value=lambda r: r.period.strftime("%B %Y")),
        Column("publisher", "Publisher", "publisher__name", value="publisher.name"),
        Column("status", "Status", "status", value=_payout_status),
        Column("method", "Method", "method", value="method"),
        Column("amount", "Amount", "amount", num=True, value=lambda r: _money(r.amount, r.currency)),
        Column(
            "sent",
            "Sent",
            "payout_amount",
            num=True,
            value=lambda r: _money(r.payout_amount, r.payout_currency),
        ),
        Column("reference", "Reference", "payment_reference", value="payment_reference"),
    ),
    default_sort="-period",
    search=("publisher__name", "payment_reference"),
    search_label="Publisher or payment reference",
    filters=(
        Filter("status", "Status", "status", Payout.Status.choices),
        Filter("hold", "Held because", "hold_reason", Payout.HoldReason.choices),
        Filter("currency", "Currency", "currency", lambda actor: _currencies(Payout)),
        Filter("publisher", "Publisher", "publisher_id", PUBLISHERS),
    ),
)


def _currencies(model: type[Commission] | type[AdvertiserPayment] | type[Payout]) -> list[tuple[str, str]]:
    values = model.objects.order_by("currency").values_list("currency", flat=True).distinct()
    return [(v, v) for v in values]


def commissions_for(actor: Actor) -> QuerySet[Commission]:
    qs = Commission.objects.select_related("offer", "publisher")
    return scope(qs, actor, advertiser_path="advertiser_id", publisher_path="publisher_id")


def documents_for(actor: Actor) -> QuerySet[Document]:
    qs = Document.objects.select_related("advertiser", "publisher")
    return scope(qs, actor, advertiser_path="advertiser_id", publisher_path="publisher_id")


def payments_for(actor: Actor) -> QuerySet[AdvertiserPayment]:
    qs = AdvertiserPayment.objects.select_related("advertiser", "document")
    return scope(qs, actor, advertiser_path="advertiser_id", publisher_path=None)


def runs_for(actor: Actor) -> QuerySet[PayoutRun]:
    qs = PayoutRun.objects.annotate(n=Count("payouts"))
    return scope(qs, actor, advertiser_path=None, publisher_path=None)


def payouts_for(actor: Actor) -> QuerySet[Payout]:
    qs = Payout.objects.select_related("publisher", "run")
    return scope(qs, actor, advertiser_path=None, publisher_path="publisher_id")
