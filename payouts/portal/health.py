"""The staff console's system health page: the click consumer's backlog (the /healthz numbers,
for a person) above the list of publisher postback and webhook deliveries on the one list
helper (affiliates.portal.tables): failed, retrying or delivered, searched, filtered, sorted,
paginated and exported as shown. Rows are read through affiliates.roles.scope_q, so an account
manager sees their accounts' deliveries only."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, CharField, QuerySet, Value, When
from django.http import HttpResponseBase
from django.utils import timezone

from affiliates.models import Publisher
from affiliates.portal.access import PortalRequest, staff_only
from affiliates.portal.tables import Column, Filter, ListSpec, model_choices, table_render
from affiliates.roles import Actor, scope_q
from payouts.models.callbacks import CallbackDelivery
from tracking.portal.console_selectors import click_backlog

KINDS = [("postback", "Publisher postback"), ("webhook", "Webhook")]


def _party(d: CallbackDelivery) -> str:
    if d.publisher_id:
        return d.publisher.name if d.publisher else ""
    sub = d.subscription
    if sub is None:
        return ""
    owner = sub.advertiser or sub.publisher
    return owner.name if owner is not None else "Network"


def _answer(d: CallbackDelivery) -> str:
    code = f"HTTP {d.last_status_code}" if d.last_status_code else ""
    return " · ".join(part for part in (code, d.last_error) if part)


DELIVERIES = ListSpec(
    columns=(
        Column("created", "Fired (UTC)", "created_at", value="created_at"),
        Column("kind", "Kind", "kind", value=lambda d: dict(KINDS)[d.kind]),
        Column("party", "For", value=_party),
        Column("event", "Event", "event", value="event"),
        Column("status", "Status", "status", value=lambda d: d.status.capitalize()),
        Column("attempts", "Tries", "attempts_count", num=True, value="attempts_count"),
        Column("answer", "Last answer", "last_status_code", value=_answer),
        Column("url", "URL", value="url"),
    ),
    default_sort="-created",
    search=("url", "key", "event"),
    search_label="URL, event or delivery key",
    filters=(
        Filter("status", "Status", "status", CallbackDelivery.Status.choices),
        Filter("kind", "Kind", "kind", KINDS),
        Filter("publisher", "Publisher", "publisher_id", model_choices(Publisher.objects.all())),
    ),
    page_size=50,
)


def deliveries_for(actor: Actor) -> QuerySet[CallbackDelivery]:
    """The deliveries the actor may see: every one for staff, an account manager's accounts'."""
    mine = scope_q(actor, advertiser_path="subscription__advertiser_id", publisher_path="publisher_id") | (
        scope_q(actor, advertiser_path=None, publisher_path="subscription__publisher_id")
    )
    kind = Case(
        When(subscription__isnull=True, then=Value("postback")),
        default=Value("webhook"),
        output_field=CharField(),
    )
    return (
        CallbackDelivery.objects.filter(mine)
        .annotate(kind=kind)
        .select_related("publisher", "subscription__advertiser", "subscription__publisher")
    )


@staff_only
def system_health(request: PortalRequest) -> HttpResponseBase:
    qs = deliveries_for(request.actor)
    day_ago = timezone.now() - timedelta(days=1)
    return table_render(
        request,
        qs,
        DELIVERIES,
        label="System health",
        sub=HEALTH_SUB,
        rows="payouts/portal/console/rows_deliveries.html",
        before="payouts/portal/console/_health.html",
        backlog=click_backlog(),
        failed_day=qs.filter(status=CallbackDelivery.Status.FAILED, created_at__gte=day_ago).count(),
        retrying=qs.filter(status=CallbackDelivery.Status.PENDING, attempts_count__gt=0).count(),
        empty="No deliveries yet.",
    )


HEALTH_SUB = (
    "The click consumer's backlog and every publisher postback and webhook delivery: what failed, what "
    "is retrying and why. A failed delivery can be sent again from its publisher's or webhook's page."
)
