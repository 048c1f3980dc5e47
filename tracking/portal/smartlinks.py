"""Smart-link pages: the list, a new smart link with its paths, and a link's page with per-path
numbers over the range picked (default: the optimiser's window) against the previous period,
weights by hand, the optimisation runs and the learning resets.

Publishers make links over offers they are approved on; advertisers over their own offers, for
a publisher they work with; staff over any. The rules are the services' (tracking.smartlinks);
these views only render them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates.core.db import db_id
from affiliates.core.errors import DomainError
from affiliates.models import Offer, OfferAccess, Publisher
from affiliates.portal.access import PortalRequest, portal_view, staff_act
from affiliates.portal.daterange import (
    DateRange,
    Delta,
    RangeError,
    date_range_context,
    date_range_make,
    date_range_or_default,
)
from affiliates.portal.tables import table_render
from affiliates.roles import Act, Role, visible
from tracking.models import SmartLink, SmartPath, SmartRun
from tracking.portal.smartlink_forms import PathRows, SmartLinkForm
from tracking.portal.smartlink_lists import SMART_LINKS, smart_links_listed
from tracking.smartlinks import services
from tracking.smartlinks.selectors import PathStats, path_stats, window_start

every_role = portal_view(Role.PUBLISHER, Role.ADVERTISER, Role.STAFF)


def _offers(request: PortalRequest) -> Any:
    actor = request.actor
    if actor.is_publisher:
        return Offer.objects.filter(
            accesses__publisher_id=actor.publisher_pk, accesses__status=OfferAccess.Status.APPROVED
        ).order_by("name")
    return visible(Offer.objects.all(), actor).order_by("name")


def _link(request: PortalRequest, smart_id: int) -> SmartLink:
    return get_object_or_404(services.smart_links_visible(actor=request.actor), pk=smart_id)


@every_role
def smart_links(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        smart_links_listed(request.actor),
        SMART_LINKS,
        label="Smart links",
        sub=SMART_LINKS_SUB,
        rows="tracking/portal/rows_smart_links.html",
        empty="No smart links yet. Make one: pick two or more offers and a catch-all.",
        links=[{"url": reverse("tracking_portal:smart-link-new"), "label": "New smart link"}],
    )


SMART_LINKS_SUB = (
    "One tracking link, placed once, that sends each visitor to the best of several offers or landing "
    "pages: by targeting, weights (by hand or optimised on a KPI), caps and a catch-all."
)


@every_role
@staff_act(Act.MANAGE_SMART_LINKS)
def smart_link_new(request: PortalRequest) -> HttpResponseBase:
    publishers = None if request.actor.is_publisher else visible(Publisher.objects.all(), request.actor)
    form = SmartLinkForm(request.POST or None, publishers=publishers)
    rows = PathRows(request.POST or None, form_kwargs={"offers": _offers(request)}, prefix="paths")
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        specs = [spec for row in rows.forms if (spec := row.spec()) is not None]
        options = {k: v for k, v in form.cleaned_data.items() if k not in ("name", "publisher")}
        publisher = form.cleaned_data.get("publisher") or request.publisher
        if publisher is None:
            raise Http404("No publisher for this smart link.")
        try:
            smart = services.smart_link_create(
                actor=request.actor,
                publisher=publisher,
                name=form.cleaned_data["name"],
                paths=specs,
                **options,
            )
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, f"Smart link {smart.name} created: place {smart.tracking_url} once.")
            return redirect("tracking_portal:smart-link", smart.pk)
    return render(request, "tracking/portal/smart_link_new.html", {"form": form, "rows": rows})


def _range(request: PortalRequest, smart: SmartLink) -> tuple[DateRange, RangeError | None]:
    """The range asked for; nothing asked: the optimiser's window (what its runs read)."""
    if any(request.GET.get(k) for k in ("range", "period", "start", "end")):
        return date_range_or_default(params=request.GET)
    return date_range_make(first=window_start(smart), last=timezone.now().date()), None


def _deltas(now: list[PathStats], before: list[PathStats]) -> dict[int, dict[str, Delta]]:
    """Per path: clicks, conversions and EPC against the previous period."""
    earlier = {s.path.pk: s for s in before}
    return {
        s.path.pk: {
            "clicks": Delta(s.clicks, earlier[s.path.pk].clicks),
            "conversions": Delta(s.conversions, earlier[s.path.pk].conversions),
            "epc": Delta(s.epc, earlier[s.path.pk].epc),
        }
        for s in now
        if s.path.pk in earlier
    }


@every_role
@staff_act(Act.MANAGE_SMART_LINKS)
def smart_link_detail(request: PortalRequest, smart_id: int) -> HttpResponseBase:
    smart = _link(request, smart_id)
    runs = list(smart.runs.all()[:30])
    reset = next((r for r in runs if r.outcome == SmartRun.Outcome.RESET), None)
    chosen, range_error = _range(request, smart)
    picker = date_range_context(request.GET, chosen, range_error)
    stats = path_stats(smart=smart, since=chosen.first, until=chosen.last)
    before = chosen.previous()
    context = {
        **picker,
        "smart": smart,
        "stats": stats,
        "deltas": _deltas(stats, path_stats(smart=smart, since=before.first, until=before.last))
        if picker["compare"]
        else {},
        "since": window_start(smart),
        "runs": runs,
        "reset": reset,
        "may_edit": services.smart_link_may_edit(actor=request.actor, smart=smart),
        "show_revenue": not request.actor.is_publisher,
    }
    status = 400 if range_error else 200
    return render(request, "tracking/portal/smart_link_detail.html", context, status=status)


@require_POST
@every_role
@staff_act(Act.MANAGE_SMART_LINKS)
def smart_link_weights(request: PortalRequest, smart_id: int) -> HttpResponseBase:
    smart = _link(request, smart_id)
    weights: dict[int, int] = {}
    for path in smart.paths.all():
        weight = db_id(request.POST.get(f"weight-{path.pk}", "").strip())
        if weight is not None:  # the service bounds it
            weights[path.pk] = weight
    try:
        services.smart_weights_set(actor=request.actor, smart=smart, weights=weights)
        messages.success(request, "Weights saved; the link routes by them within seconds.")
    except DomainError as refused:
        messages.error(request, refused.message)
    return redirect("tracking_portal:smart-link", smart.pk)


@require_POST
@every_role
@staff_act(Act.MANAGE_SMART_LINKS)
def smart_path_toggle(request: PortalRequest, smart_id: int, path_id: int) -> HttpResponseBase:
    smart = _link(request, smart_id)
    path = get_object_or_404(SmartPath, smart_link=smart, pk=path_id)
    paused = path.status == SmartPath.Status.PAUSED
    status = SmartPath.Status.ACTIVE if paused else SmartPath.Status.PAUSED
    try:
        services.smart_path_update(actor=request.actor, path=path, status=status)
        messages.success(request, f"Path {path} {'resumed' if paused else 'paused'}.")
    except DomainError as refused:
        messages.error(request, refused.message)
    return redirect("tracking_portal:smart-link", smart.pk)
