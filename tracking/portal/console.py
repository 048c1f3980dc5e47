"""The staff console's conversion list: every conversion on the network, searched, filtered and
sorted through the one list helper (affiliates.portal.tables), each linking to its trace. Click
and conversion data only, so it lives here; commissions are payouts.portal's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpResponseBase

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
    return "" if c.amount is None else f"{c.amount} {c.currency or c.offer.currency}"


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
