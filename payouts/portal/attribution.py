"""The attribution page for advertisers and staff: the models side by side (credited
conversions, credited revenue and the delta against last click, the paid model) per publisher,
sub id, source or creative, and each publisher's participation, each against the previous period
(the paid model's conversions and revenue; conversions touched), and both tables as CSV with
exactly the rows and columns shown. It reads the journey tables through
payouts.reports.attribution.selectors, the same reads and role rules as the API."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from affiliates.models import Advertiser, Publisher
from affiliates.portal.access import PortalRequest, portal_view
from affiliates.portal.daterange import DateRange, Delta, date_range_context, date_range_or_default
from affiliates.roles import Role, visible
from payouts.exports.tabular import csv_bytes
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


def _row_key(row: dict[str, Any], by: str) -> tuple[Any, ...]:
    return (row["publisher"], row.get(by) if by != "publisher" else None, row["currency"])


def _compared(rows: list[dict[str, Any]], before: list[dict[str, Any]], by: str) -> None:
    """Each row gains the previous period's paid (last-click) conversions and revenue, and
    their deltas; a row the previous period did not have compares with zero."""
    earlier = {_row_key(r, by): r["models"]["last_click"] for r in before}
    for row in rows:
        now = row["models"]["last_click"]
        then = earlier.get(_row_key(row, by), {"conversions": Decimal(0), "revenue": Decimal(0)})
        row["before"] = then
        row["delta_conversions"] = Delta(now["conversions"], then["conversions"])
        row["delta_revenue"] = Delta(now["revenue"], then["revenue"])


def _roles_compared(roles: list[dict[str, Any]], before: list[dict[str, Any]]) -> None:
    earlier = {r["publisher"]: r["conversions_touched"] for r in before}
    for row in roles:
        row["touched_before"] = earlier.get(row["publisher"], 0)
        row["delta_touched"] = Delta(row["conversions_touched"], row["touched_before"])


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _models_csv(context: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The models table as shown: its rows, its columns (the comparison's when it is on)."""
    by, compare, models = context["by"], context["compare"], context["models"]
    header = ["publisher", *([by] if by != "publisher" else []), "currency"]
    if compare:
        header += ["paid_conversions_previous", "paid_revenue_previous"]
    for m, _ in models:
        header += [f"{m}_conversions", f"{m}_revenue", f"{m}_revenue_vs_last_click"]
    lines = []
    for r in context["rows"]:
        line = [r["name"], *([r["label"]] if by != "publisher" else []), r["currency"]]
        if compare:
            line += [r["before"]["conversions"], r["before"]["revenue"]]
        for m, _ in models:
            cell = r["models"][m]
            line += [cell["conversions"], cell["revenue"], _blank((cell["delta"] or {}).get("revenue"))]
        lines.append(line)
    return header, lines


def _roles_csv(context: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    keys = [
        "conversions_touched",
        "introducer",
        "influencer",
        "closer",
        "credited_conversions",
        "credit_share",
    ]
    header = ["publisher", *keys, *(["conversions_touched_previous"] if context["compare"] else [])]
    lines = [
        [r["name"], *(_blank(r[k]) for k in keys), *([r["touched_before"]] if context["compare"] else [])]
        for r in context["roles"]
    ]
    return header, lines


def _csv(context: dict[str, Any], chosen: DateRange, table: str) -> HttpResponse:
    header, lines = _roles_csv(context) if table == "participation" else _models_csv(context)
    response = HttpResponse(csv_bytes(header, lines), content_type="text/csv; charset=utf-8")
    kind = "participation" if table == "participation" else "models"
    name = f"attribution-{kind}-{chosen.first}-{chosen.last}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


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
        prev = chosen.previous()
        earlier = replace(filters, start=prev.first, end=prev.last)
        try:
            rows = attribution_compare(actor=request.actor, filters=filters, by=data["by"])
            roles = participation(actor=request.actor, filters=filters)
            if context["compare"]:
                _compared(
                    rows, attribution_compare(actor=request.actor, filters=earlier, by=data["by"]), data["by"]
                )
                _roles_compared(roles, participation(actor=request.actor, filters=earlier))
        except ReportError as exc:
            context["error"] = exc.message
        else:
            names = _names(rows + roles, staff)
            for row in rows + roles:
                row["name"] = names.get(row["publisher"]) or f"Publisher #{row['publisher']}"
                row["label"] = row.get(data["by"], "") if data["by"] != "publisher" else ""
            context.update(rows=rows, roles=roles, by=data["by"], scope=data["scope"])
            if request.GET.get("format") == "csv" and not range_error:
                return _csv(context, chosen, request.GET.get("table", "models"))
    return render(request, "payouts/portal/attribution.html", context, status=400 if range_error else 200)
