"""The staff console's conversion list: every conversion on the network, searched, filtered and
sorted through the one list helper (affiliates.portal.tables), each linking to its trace. Click
and conversion data only, so it lives here; commissions are payouts.portal's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpResponse

from affiliates.models import Advertiser, Offer, Publisher
from affiliates.portal.access import PortalRequest, staff_only
from affiliates.portal.tables import Column, Filter, ListSpec, model_choices, table_render
from affiliates.roles import Actor
from tracking.models import Conversion
from tracking.models.conversions import ConversionStatus
from tracking.portal.selectors import conversions_for

CONVERSIONS = ListSpec(
    columns=(
        Column("created", "Recorded", "created_at"),
        Column("offer", "Offer", "offer__name"),
        Column("publisher", "Publisher", "publisher__name"),
        Column("goal", "Goal", "goal__code"),
        Column("status", "Status", "status"),
        Column("reason", "Reason", "reason"),
        Column("amount", "Sale", "amount", num=True),
        Column("trace", "Trace", num=True),
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
def staff_conversions(request: PortalRequest) -> HttpResponse:
    return table_render(
        request,
        conversions_console(request.actor),
        CONVERSIONS,
        label="Conversions",
        sub="Every conversion on the network. Open one for its trace: click, checks, status changes.",
        rows="tracking/portal/console_rows_conversions.html",
    )
