"""The reports page: filters and group-by over the reports module's rollups, on screen or CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from affiliates.portal.access import PortalRequest, portal_view
from affiliates.roles import Role
from tracking.portal import actions
from tracking.portal.forms import ReportForm
from tracking.portal.views import _offers

# Metric columns in the order people read them; a role sees only its own money columns.
METRICS = {
    Role.PUBLISHER: ["impressions", "clicks", "unique_clicks", "ctr", "conversions", "cvr", "epc", "payout"],
    Role.ADVERTISER: [
        "impressions",
        "clicks",
        "unique_clicks",
        "conversions",
        "cvr",
        "cost",
        "cpc",
        "cpa",
        "roas",
        "aov",
    ],
    Role.STAFF: [
        "clicks",
        "unique_clicks",
        "conversions",
        "cvr",
        "epc",
        "revenue",
        "payout",
        "margin",
        "roas",
    ],
}


@portal_view(Role.PUBLISHER, Role.ADVERTISER, Role.STAFF)
def reports(request: PortalRequest) -> HttpResponse:
    today = timezone.now().date()
    initial = {"start": today - timedelta(days=6), "end": today, "group_by": ["day"], "tz": "UTC"}
    form = ReportForm(request.GET or initial, offers=_offers(request))
    rows: list[dict[str, Any]] = []
    columns: list[str] = []
    unavailable = ""
    if form.is_valid():
        data = form.cleaned_data
        tz = ZoneInfo(data["tz"])
        filters = {k: v for k, v in {"offer": data["offer"], "country": data["country"].upper()}.items() if v}
        if filters.get("offer"):
            filters["offer"] = filters["offer"].pk
        try:
            rows = list(
                actions.report_rows(
                    actor=request.actor,
                    group_by=data["group_by"],
                    start=datetime.combine(data["start"], time.min, tzinfo=tz),
                    end=datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=tz),
                    filters=filters,
                    tz=data["tz"],
                )
            )
        except actions.ActionUnavailable as exc:
            unavailable = str(exc)
        wanted = [*data["group_by"], *METRICS.get(request.actor.role, [])]
        columns = [c for c in wanted if not rows or c in rows[0]]
        if request.GET.get("format") == "csv" and not unavailable:
            return _csv(rows, columns)
    return render(
        request,
        "tracking/portal/reports.html",
        {"form": form, "rows": rows, "columns": columns, "unavailable": unavailable},
    )


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    response = HttpResponse(out.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="report.csv"'
    return response
