"""The staff console's conversion list: every conversion on the network, searched, filtered and
sorted through the one list helper (affiliates.portal.tables), each linking to its trace. Click
and conversion data only, so it lives here; commissions are payouts.portal's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.urls import reverse

from affiliates.models import Advertiser, Offer, Publisher
from affiliates.portal.access import PortalRequest, staff_only
from affiliates.portal.tables import Column, Filter, ListSpec, model_choices, table_render
from affiliates.roles import Actor
from tracking.models import Conversion
from tracking.models.conversions import ConversionStatus
from tracking.portal.selectors import conversions_for


def _status(c: Conversion) -> str:
    held = c.held_for_review and c.status == ConversionStatus.PENDING
    return f"{c.get_status_display()}{' (held for review)' if held else ''}"


def _sale(c: Conversion) -> str:
    currency = c.currency or (c.offer.currency if c.offer else "")
    return "" if c.amount is None else f"{c.amount} {currency}"


CONVERSIONS = ListSpec(
    columns=(
        Column("created", "Recorded", "created_at", value="created_at"),
        Column("offer", "Offer", "offer__name", value="offer.name"),
        Column("publisher", "Publisher", "publisher__name", value="publisher.name"),
        Column("goal", "Goal", "goal__code", value="goal.code"),
        Column("status", "Status", "status", value=_status),
        Column("reason", "Reason", "reason", value="reason"),
        Column("amount", "Sale", "amount", num=True, value=_sale),
        Column("trace", "Trace", num=True, value="pk"),
    ),
    default_sort="-created",
    # Exact matches: the table is the network's largest after clicks, and these are indexed.
    search=("txn_id", "sub1"),
    search_lookup="exact",
    search_label="Conversion id, txn id or sub1",
    filters=(
        Filter("status", "Status", "status", ConversionStatus.choices),
        Filter("held", "Fraud review", "held_for_review", [("True", "Held"), ("False", "Not held")]),
        Filter("advertiser", "Advertiser", "offer__advertiser_id", model_choices(Advertiser.objects.all())),
        Filter("offer", "Offer", "offer_id", model_choices(Offer.objects.all())),
        Filter("publisher", "Publisher", "publisher_id", model_choices(Publisher.objects.all())),
    ),
)


def conversions_console(actor: Actor) -> QuerySet[Conversion]:
    """Every conversion the actor may see (all, for staff), with what the rows show."""
    return conversions_for(actor).select_related("offer", "publisher", "goal")


@staff_only
def staff_conversions(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        conversions_console(request.actor),
        CONVERSIONS,
        label="Conversions",
        sub="Every conversion on the network. Open one for its trace: click, checks, status changes.",
        rows="tracking/portal/console_rows_conversions.html",
    )


def _offer_of(c: Conversion) -> str:
    return f"{c.offer.name} ({c.offer.advertiser.name})" if c.offer else ""


FRAUD = ListSpec(
    columns=(
        Column("created", "Time (UTC)", "created_at", value="created_at"),
        Column("id", "ID", "id", value="pk"),
        Column(
            "offer", "Offer", "offer__name", value=lambda c: f"{c.offer.name} ({c.offer.advertiser.name})"
        ),
        Column("publisher", "Publisher", "publisher__name", value="publisher.name"),
        Column("flags", "Flags", value=lambda c: "; ".join(c.fraud_flags or [])),
        Column("amount", "Sale", "amount", num=True, value=_sale),
        Column("ip", "IP / country", "country", value=lambda c: f"{c.ip or ''} {c.country}".strip()),
        Column("decision", "Decision", num=True),
    ),
    default_sort="created",  # oldest first: the longest wait is decided first
    search=("txn_id", "sub1", "ip"),
    search_lookup="exact",
    search_label="Conversion id, txn id, sub1 or IP",
    filters=(
        Filter("advertiser", "Advertiser", "offer__advertiser_id", model_choices(Advertiser.objects.all())),
        Filter("offer", "Offer", "offer_id", model_choices(Offer.objects.all())),
        Filter("publisher", "Publisher", "publisher_id", model_choices(Publisher.objects.all())),
    ),
)


@staff_only
def staff_fraud(request: PortalRequest) -> HttpResponseBase:
    """Conversions held by the fraud rules and still pending: what waits for a staff decision."""
    qs = conversions_console(request.actor).filter(held_for_review=True, status=ConversionStatus.PENDING)
    return table_render(
        request,
        qs.select_related("offer__advertiser"),
        FRAUD,
        label="Fraud review",
        sub=FRAUD_SUB,
        rows="tracking/portal/console_rows_fraud.html",
        empty="Nothing held. The rules let everything through.",
        links=[{"url": reverse("payouts_portal:staff-invalid-traffic"), "label": "Invalidate traffic"}],
    )


FRAUD_SUB = (
    "Conversions held by the fraud rules, oldest first. Nothing here pays until you decide. Release lifts "
    "the hold only: the conversion stays pending, and the hold period and the advertiser's review still "
    "apply. Approve now skips them. Release and Reject show what they will do before anything changes."
)
