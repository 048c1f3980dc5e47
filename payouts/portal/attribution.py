"""The attribution page for advertisers and staff: the models side by side (credited
conversions, credited revenue and the delta against last click, the paid model) per publisher,
sub id, source or creative, and each publisher's participation. It reads the journey tables
through payouts.reports.attribution.selectors, the same reads and role rules as the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from affiliates.models import Advertiser, Publisher
from affiliates.portal.access import PortalRequest, portal_view
from affiliates.portal.daterange import date_range_context, date_range_or_default
from affiliates.roles import Role, visible
from payouts.reports.attribution.selectors import GROUPS, Filters, as_of, attribution_compare, participation
from payouts.reports.dimensions import ReportError
from tracking.models.journeys import MODELS

LABELS = {
    "last_click": "Last click (paid)",
    "first_click": "First click",
    "linear": "Linear",
    "position_based": "Position 40/20/40",
    "time_decay": "Time decay (7 d)",
    "markov": "Markov (data-driven)",
}
_DATE = {"widget": forms.DateInput(attrs={"type": "date"})}


class AttributionForm(forms.Form):
    start = forms.DateField(label="From", **_DATE)  # type: ignore[arg-type]
    end = forms.DateField(label="To", **_DATE)  # type: ignore[arg-type]
    by = forms.ChoiceField(label="Rows", choices=[(g, g.replace("sub1", "sub id")) for g in GROUPS])
    scope = forms.ChoiceField(
        label="Conversions", choices=[("click", "Clicks and coupons"), ("view_through", "View-through only")]
    )
    advertiser = forms.ModelChoiceField(
        label="Advertiser", queryset=Advertiser.objects.all(), required=False, empty_label="All"
    )


def _defaults() -> dict[str, Any]:
    end = timezone.now().date()
    return {
        "start": (end - timedelta(days=29)).isoformat(),
        "end": end.isoformat(),
        "by": "publisher",
        "scope": "click",
    }


def _names(rows: list[dict[str, Any]], staff: bool) -> dict[int, str]:
    """Publisher names for staff; others see ids, as in every advertiser-facing report."""
    if not staff:
        return {}
    return dict(Publisher.objects.filter(pk__in={r["publisher"] for r in rows}).values_list("pk", "name"))


@portal_view(Role.STAFF, Role.ADVERTISER)
def attribution(request: PortalRequest) -> HttpResponse:
    staff = request.actor.is_staff
    # The days come from the one range parser (affiliates.portal.daterange), as on every report.
    chosen, range_error = date_range_or_default(params=request.GET, default="30d")
    params = {**_defaults(), **request.GET.dict()}
    params["start"], params["end"] = chosen.first.isoformat(), chosen.last.isoformat()
    form = AttributionForm(params)
    if not staff:
        del form.fields["advertiser"]
    else:  # an account manager picks among their advertisers
        form.fields["advertiser"].queryset = visible(Advertiser.objects.all(), request.actor)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "form": form,
        "models": [(m, LABELS[m]) for m in MODELS],
        "as_of": as_of(),
        **date_range_context(request.GET, chosen, range_error),
    }
    if form.is_valid():
        data = form.cleaned_data
        advertiser = data.get("advertiser")
        filters = Filters(
            start=data["start"],
            end=data["end"],
            scope=data["scope"],
            advertiser=advertiser.pk if advertiser else None,
        )
        try:
            rows = attribution_compare(actor=request.actor, filters=filters, by=data["by"])
            roles = participation(actor=request.actor, filters=filters)
        except ReportError as exc:
            context["error"] = exc.message
        else:
            names = _names(rows + roles, staff)
            for row in rows + roles:
                row["name"] = names.get(row["publisher"]) or f"Publisher #{row['publisher']}"
                row["label"] = row.get(data["by"], "") if data["by"] != "publisher" else ""
            context.update(rows=rows, roles=roles, by=data["by"], scope=data["scope"])
    return render(request, "payouts/portal/attribution.html", context, status=400 if range_error else 200)
