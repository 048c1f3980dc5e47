"""The reports page: payouts.reports' ``Report`` on screen, as a chart, or as CSV.

The page reads the same ``report_rows`` as ``GET /api/v1/reports/`` (rollups, role-scoped) and
exports the same CSV, totals included. The screen shows a short list of each role's metrics;
the CSV carries every column the role may see.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, timedelta, tzinfo
from typing import Any

from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.safestring import SafeString

from affiliates.core.errors import DomainError
from affiliates.models import Publisher
from affiliates.portal.access import PortalRequest, portal_view
from affiliates.portal.charts import Series, bar_line_chart
from affiliates.portal.daterange import (
    DateRange,
    RangeError,
    compare_wanted,
    date_range_context,
    date_range_or_default,
)
from affiliates.roles import Actor, Role
from payouts.portal.forms import ReportForm
from payouts.portal.report_table import report_page
from payouts.reporting_money import rates_at, reporting_currency_for
from payouts.reports.api.renderers import ReportCSVRenderer
from payouts.reports.api.serializers import ReportSerializer
from payouts.reports.dimensions import ReportError, parse_tz
from payouts.reports.selectors import Report, report_rows
from tracking.portal.selectors import offers_for


def _filters(data: dict[str, Any]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if data.get("offer"):
        filters["offer"] = [data["offer"].pk]
    for name in ("country", "device", "sub1"):
        value = (data.get(name) or "").strip()
        if value:
            filters[name] = value.upper() if name == "country" else value
    return filters


def _publisher_names(report: Report, actor: Actor) -> Report:
    """Publisher names for an advertiser's report in the portal. The API gives advertisers ids
    only; the portal already names the publishers running the advertiser's offers (its
    publishers page, access requests), so its report, screen and CSV, names those same ones."""
    if actor.advertiser_id is None or "publisher" not in report.query.group_by:
        return report
    ids = {r["publisher"] for r in report.rows}
    names = dict(
        Publisher.objects.filter(pk__in=ids, accesses__offer__advertiser_id=actor.advertiser_id)
        .distinct()
        .values_list("pk", "name")
    )
    for row in report.rows:
        row["publisher_name"] = names.get(row["publisher"], "")
    at = report.dimensions.index("currency")
    return replace(report, dimensions=(*report.dimensions[:at], "publisher_name", *report.dimensions[at:]))


def _chart(report: Report) -> SafeString | None:
    """Clicks (bars) and conversions (line) per day or hour, other dimensions summed."""
    time_dim = next((d for d in ("day", "hour") if d in report.query.group_by), None)
    if time_dim is None or not report.rows:
        return None
    clicks: dict[Any, int] = defaultdict(int)
    conversions: dict[Any, int] = defaultdict(int)
    for row in report.rows:
        clicks[row[time_dim]] += row["gross_clicks"]
        conversions[row[time_dim]] += row["conversions"]
    keys = sorted(clicks)
    if time_dim == "day":  # every day of the range gets its slot, traffic or not
        query = report.query
        keys = [query.start + timedelta(days=i) for i in range(query.days)]
    fmt = "%b %d" if time_dim == "day" else "%d %H:00"
    return bar_line_chart(
        title=f"Clicks and conversions per {time_dim}",
        labels=[k.strftime(fmt) for k in keys],
        bars=Series("clicks", [clicks[k] for k in keys]),
        line=Series("conversions", [conversions[k] for k in keys]),
    )


def _csv(report: Report) -> HttpResponse:
    body = ReportCSVRenderer().render(ReportSerializer(report).data)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"report-{report.query.start.isoformat()}-{report.query.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _params(request: PortalRequest) -> tuple[QueryDict, DateRange, RangeError | None]:
    """The query with the range read by the one parser (affiliates.portal.daterange) in the
    report's time zone, and the API's defaults for the rest (by day, UTC)."""
    params = request.GET.copy()
    tz_name = params.get("tz") or "UTC"
    tz: tzinfo
    try:
        tz = parse_tz(tz_name)
    except DomainError:  # the form reports the unknown zone
        tz = UTC
    chosen, error = date_range_or_default(params=params, tz=tz)
    params["start"], params["end"] = chosen.first.isoformat(), chosen.last.isoformat()
    params.setdefault("tz", tz_name)
    if not params.getlist("group_by"):
        params.setlist("group_by", ["day"])
    return params, chosen, error


@portal_view(Role.PUBLISHER, Role.ADVERTISER, Role.STAFF)
def reports(request: PortalRequest) -> HttpResponse:
    params, chosen, range_error = _params(request)
    form = ReportForm(params, offers=offers_for(request.actor))
    report: Report | None = None
    previous: Report | None = None
    error = ""
    compare = compare_wanted(request.GET)
    if form.is_valid():
        data = form.cleaned_data
        query = {
            "actor": request.actor,
            "tz": data["tz"],
            "group_by": data["group_by"],
            "filters": _filters(data),
        }
        order = request.GET.get("sort") or None
        try:
            report = report_rows(start=data["start"], end=data["end"], order_by=order, **query)
        except ReportError as exc:
            if exc.code != "bad_order":
                error = exc.message
            else:  # a stale sort link: the default order
                report = report_rows(start=data["start"], end=data["end"], **query)
        if report is not None:
            report = _publisher_names(report, request.actor)
        if report is not None and request.GET.get("format") == "csv":
            return _csv(report)
        if report is not None and compare:
            prev = chosen.previous()
            previous = report_rows(start=prev.first, end=prev.last, **query)
    context: dict[str, Any] = {
        "form": form,
        "report": report,
        "error": error,
        **date_range_context(request.GET, chosen, range_error),
    }
    if report is not None:
        currency = reporting_currency_for(account=request.advertiser or request.publisher)
        context.update(
            report_page(
                report=report,
                previous=previous,
                role=request.actor.role,
                get=request.GET,
                currency=currency,
                rates=rates_at(at=chosen.end),
            ),
            chart=_chart(report),
            currency=currency,
        )
    return render(request, "payouts/portal/reports.html", context, status=400 if range_error else 200)
