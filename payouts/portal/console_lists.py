"""The staff console's money lists: commissions, invoices and statements, advertiser payments,
payout runs and payouts. Each declares what it shows, sorts and filters by for the one list
helper (affiliates.portal.tables); rows are read through affiliates.roles.scope, so a narrower
staff role later narrows these pages too."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from affiliates.models import Advertiser, Offer, Publisher
from affiliates.portal.tables import Column, Filter, ListSpec, model_choices
from affiliates.roles import Actor, scope
from payouts.models import AdvertiserPayment, Commission, CommissionStatus, Document, Payout, PayoutRun

ADVERTISERS = model_choices(Advertiser.objects.all())
PUBLISHERS = model_choices(Publisher.objects.all())

COMMISSIONS = ListSpec(
    columns=(
        Column("created", "Created", "created_at"),
        Column("kind", "Kind", "kind"),
        Column("offer", "Offer", "offer__name"),
        Column("publisher", "Publisher", "publisher__name"),
        Column("status", "Status", "status"),
        Column("revenue", "Revenue", "revenue", num=True),
        Column("payout", "Payout", "payout", num=True),
        Column("trace", "Trace", num=True),
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
        Column("number", "Number", "number"),
        Column("kind", "Kind", "kind"),
        Column("party", "Party"),
        Column("period", "Period", "period"),
        Column("issued", "Issued", "issue_date"),
        Column("due", "Due", "due_date"),
        Column("total", "Total", num=True),
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
        Column("received", "Received", "received_on"),
        Column("advertiser", "Advertiser", "advertiser__name"),
        Column("reference", "Reference", "reference"),
        Column("invoice", "Invoice", "document__number"),
        Column("amount", "Amount", "amount", num=True),
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
        Column("period", "Period", "period"),
        Column("status", "Status", "status"),
        Column("payouts", "Payouts", "n", num=True),
        Column("total", "Total", num=True),
        Column("created", "Started", "created_at"),
        Column("approved", "Approved", "approved_at"),
        Column("paid", "Paid", "paid_at"),
    ),
    default_sort="-period",
    filters=(Filter("status", "Status", "status", PayoutRun.Status.choices),),
)

PAYOUTS = ListSpec(
    columns=(
        Column("period", "Period", "period"),
        Column("publisher", "Publisher", "publisher__name"),
        Column("status", "Status", "status"),
        Column("method", "Method", "method"),
        Column("amount", "Amount", "amount", num=True),
        Column("sent", "Sent", "payout_amount", num=True),
        Column("reference", "Reference", "payment_reference"),
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
