"""The reports page's table: the report's rows as people read them, sorted by any shown column,
one page at a time, each row beside the previous period's same row, and the totals in the
viewer's reporting currency (payouts.reporting_money) with their per-currency breakdown.

The sort is the report's own (report_rows' ``order_by``), so the CSV, which carries every row
of the same report, lists them in the order the pages show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.paginator import Paginator
from django.http import QueryDict

from affiliates.portal.daterange import Delta
from affiliates.roles import Role
from affiliates.templatetags.portal import delta_text, money
from payouts.portal.dashboard_selectors import KpiRow
from payouts.reporting_money import Rates, money_convert
from payouts.reports.selectors import Report

PAGE_SIZE = 100

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


def _kind(name: str) -> str:
    if name in PERCENT:
        return "pct"
    if name in MONEY:
        return "money"
    return "int" if name.endswith("clicks") or name in ("impressions", "conversions") else "rate"


def _key(row: Mapping[str, Any], dims: list[str]) -> tuple[Any, ...]:
    return tuple(row.get(d) for d in dims)


def _row_deltas(
    report: Report, previous: Report | None
) -> tuple[list[str], dict[tuple[Any, ...], dict[str, Any]]]:
    """The previous period's rows by their non-time dimensions (a day has no "same day" in
    another period; an offer, a country or a sub id does)."""
    dims = [d for d in report.query.group_by if d not in ("day", "hour")]
    if previous is None or not dims:
        return dims, {}
    return dims, {_key(r, [*dims, "currency"]): r for r in previous.rows}


def _kpis(report: Report, previous: Report | None, currency: str, rates: Rates) -> list[KpiRow]:
    """The totals over every currency: counts summed, money converted at the stored rates."""
    rows: list[KpiRow] = []
    for name in ("gross_clicks", "conversions"):
        if name in report.metrics:
            now = sum(t.get(name) or 0 for t in report.totals)
            then = sum(t.get(name) or 0 for t in previous.totals) if previous else None
            rows.append(KpiRow(name, LABELS.get(name, name.capitalize()), "int", now, then))
    for name in ("payout", "cost", "revenue", "margin"):
        if name in report.metrics:
            conv = money_convert(
                amounts={t["currency"]: t.get(name) for t in report.totals}, currency=currency, rates=rates
            )
            before = (
                money_convert(
                    amounts={t["currency"]: t.get(name) for t in previous.totals},
                    currency=currency,
                    rates=rates,
                ).total
                if previous
                else None
            )
            rows.append(KpiRow(name, name.capitalize(), "money", conv.total, before, conv))
    return rows


def _header(col: str, metrics: list[str], sort: str, get: QueryDict) -> dict[str, Any]:
    link = get.copy()
    link.pop("page", None)
    link.pop("format", None)
    current = sort.removeprefix("-") == col
    descending = sort.startswith("-")
    # Numbers sort high to low first; text A to Z.
    first = f"-{col}" if col in metrics else col
    link["sort"] = (col if descending else f"-{col}") if current else first
    return {
        "label": LABELS.get(col, col.replace("_", " ").capitalize()),
        "num": col in metrics,
        "url": f"?{link.urlencode()}",
        "aria_sort": ("descending" if descending else "ascending") if current else "",
    }


def report_page(
    *, report: Report, previous: Report | None, role: Role, get: QueryDict, currency: str, rates: Rates
) -> dict[str, Any]:
    """The template's table: headers with sort links, one page of rows with their deltas,
    the per-currency totals, and the converted KPIs."""
    dims, metrics = _columns(report, role)
    columns = [*dims, *metrics]
    match_dims, before = _row_deltas(report, previous)
    page = Paginator(report.rows, PAGE_SIZE).get_page(get.get("page"))
    rows = []
    for row in page.object_list:
        prev = before.get(_key(row, [*match_dims, "currency"])) if before else None
        cells = []
        for c in columns:
            d = delta_text(Delta(row.get(c), prev.get(c)), _kind(c)) if (prev and c in metrics) else ""
            cells.append({"text": _cell(c, row.get(c)), "num": c in metrics, "delta": d})
        rows.append(cells)
    query = get.copy()
    query.pop("page", None)
    query.pop("format", None)
    csv_query = query.copy()
    csv_query["format"] = "csv"
    return {
        "table": {
            "headers": [_header(c, metrics, get.get("sort", ""), get) for c in columns],
            "rows": rows,
            "totals": [
                [
                    ("Total" if i == 0 else (t["currency"] if c == "currency" else ""), False)
                    for i, c in enumerate(dims)
                ]
                + [(_cell(c, t.get(c)), True) for c in metrics]
                for t in report.totals
            ],
            "row_compare": bool(before),
        },
        "page": page,
        "page_query": query.urlencode(),
        "csv_query": csv_query.urlencode(),
        "kpis": _kpis(report, previous, currency, rates),
    }
