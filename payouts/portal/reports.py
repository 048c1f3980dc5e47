"""The reports page: payouts.reports' ``Report`` on screen, as a chart, or as CSV.

The page reads the same ``report_rows`` as ``GET /api/v1/reports/`` (rollups, role-scoped) and
exports the same CSV, totals included. The screen shows a short list of each role's metrics;
the CSV carries every column the role may see.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString

from affiliates.core.errors import DomainError
from affiliates.portal.access import PortalRequest, portal_view
from affiliates.portal.charts import Series, bar_line_chart
from affiliates.roles import Role
from affiliates.templatetags.portal import money
from payouts.portal.forms import ReportForm
from payouts.reports.api.renderers import ReportCSVRenderer
from payouts.reports.api.serializers import ReportSerializer
from payouts.reports.dimensions import parse_tz
from payouts.reports.selectors import Report, report_rows
from tracking.portal.selectors import offers_for

# The metrics shown on screen, in the order people read them, each role in its own terms.
SCREEN_METRICS = {
    Role.PUBLISHER: [
        "impressions",
        "gross_clicks",
        "unique_clicks",
        "ctr",
        "conversions",
        "cvr",
        "epc",
        "payout",
    ],
    Role.ADVERTISER: [
        "impressions",
        "gross_clicks",
        "unique_clicks",
        "paid_clicks",
        "bot_clicks",
        "duplicate_clicks",
        "conversions",
        "cvr",
        "cost",
        "cpc",
        "cpl",
        "cpa",
        "roas",
        "aov",
        "effect_score",
    ],
    Role.STAFF: [
        "gross_clicks",
        "unique_clicks",
        "paid_clicks",
        "bot_clicks",
        "datacenter_clicks",
        "duplicate_clicks",
        "flood_clicks",
        "invalidated_clicks",
        "conversions",
        "cvr",
        "epc",
        "revenue",
        "payout",
        "margin",
        "roas",
        "effect_score",
    ],
}
LABELS = {
    "gross_clicks": "Clicks",
    "unique_clicks": "Unique",
    "paid_clicks": "Valid",
    "bot_clicks": "Bots",
    "datacenter_clicks": "Datacenter",
    "duplicate_clicks": "Repeats",
    "flood_clicks": "Floods",
    "invalidated_clicks": "Invalidated",
    "ctr": "CTR",
    "cvr": "CVR",
    "epc": "EPC",
    "cpc": "CPC",
    "cpl": "CPL",
    "cpa": "CPA",
    "roas": "ROAS",
    "aov": "AOV",
    "effect_score": "Effect score",
    "offer_name": "Offer",
    "publisher_name": "Publisher",
    "goal_code": "Goal",
    "sub1": "Sub 1",
    "sub2": "Sub 2",
    "sub3": "Sub 3",
    "sub4": "Sub 4",
    "sub5": "Sub 5",
}
PERCENT = frozenset({"ctr", "cvr"})
MONEY = frozenset({"payout", "revenue", "cost", "margin", "cpc", "cpl", "cpa", "aov", "sale_amount"})
PER_CLICK = frozenset({"epc"})
# An id dimension is shown by its label column when the report has one.
LABEL_OF = {"offer": "offer_name", "publisher": "publisher_name", "goal": "goal_code"}


def _filters(data: dict[str, Any]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if data.get("offer"):
        filters["offer"] = [data["offer"].pk]
    for name in ("country", "device", "sub1"):
        value = (data.get(name) or "").strip()
        if value:
            filters[name] = value.upper() if name == "country" else value
    return filters


def _cell(name: str, value: Any) -> str:
    """One value as people read it; the CSV keeps the exact decimals."""
    if value is None:
        return "—"
    if name in PERCENT:
        return f"{value:.2f}%"
    if name in PER_CLICK:
        return f"{value:.4f}"
    if name in MONEY:
        return money(value)
    if name == "roas":
        return f"{value:.2f}×"
    if name == "effect_score":
        return f"{value:.4f}"
    if name == "hour" and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:00")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value) if value != "" else "(none)"


def _columns(report: Report, role: Role) -> tuple[list[str], list[str]]:
    """(dimension columns, metric columns) for the screen."""
    dims = [LABEL_OF[d] if LABEL_OF.get(d) in report.dimensions else d for d in report.query.group_by]
    metrics = [m for m in SCREEN_METRICS.get(role, []) if m in report.metrics]
    return [*dims, "currency"], metrics


def _table(report: Report, role: Role) -> dict[str, Any]:
    dims, metrics = _columns(report, role)
    columns = [*dims, *metrics]
    return {
        "headers": [(LABELS.get(c, c.replace("_", " ").capitalize()), c in metrics) for c in columns],
        "rows": [[(_cell(c, row.get(c)), c in metrics) for c in columns] for row in report.rows],
        "totals": [
            [
                ("Total" if i == 0 else (t["currency"] if c == "currency" else ""), False)
                for i, c in enumerate(dims)
            ]
            + [(_cell(c, t.get(c)), True) for c in metrics]
            for t in report.totals
        ],
    }


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


def _params(request: PortalRequest) -> QueryDict:
    """The query with the API's defaults for what it leaves out: the last seven days, today
    included, in the report's time zone (UTC by default), by day."""
    params = request.GET.copy()
    tz = params.get("tz") or "UTC"
    try:
        today: date = timezone.now().astimezone(parse_tz(tz)).date()
    except DomainError:  # the form reports the unknown zone
        today = timezone.now().date()
    defaults: dict[str, list[str]] = {
        "start": [(today - timedelta(days=6)).isoformat()],
        "end": [today.isoformat()],
        "group_by": ["day"],
        "tz": [tz],
    }
    for name, values in defaults.items():
        if not params.get(name):
            params.setlist(name, values)
    return params


@portal_view(Role.PUBLISHER, Role.ADVERTISER, Role.STAFF)
def reports(request: PortalRequest) -> HttpResponse:
    form = ReportForm(_params(request), offers=offers_for(request.actor))
    report: Report | None = None
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            report = report_rows(
                actor=request.actor,
                start=data["start"],
                end=data["end"],
                tz=data["tz"],
                group_by=data["group_by"],
                filters=_filters(data),
            )
        except DomainError as exc:
            error = exc.message
        if report is not None and request.GET.get("format") == "csv":
            return _csv(report)
    context: dict[str, Any] = {"form": form, "report": report, "error": error}
    if report is not None:
        context.update(table=_table(report, request.actor.role), chart=_chart(report))
    return render(request, "payouts/portal/reports.html", context)
