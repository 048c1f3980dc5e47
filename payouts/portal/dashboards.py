"""The publisher and advertiser dashboards (the staff overview is console_pages'): traffic beside the money it
earned. They show commissions, so they live here, in the lowest app that may read them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString

from affiliates import selectors as affiliate_selectors
from affiliates.core.spreadsheet import csv_bytes
from affiliates.models import OfferAccess
from affiliates.portal.access import PortalRequest, advertiser_only, publisher_only
from affiliates.portal.charts import Series, bar_line_chart
from affiliates.portal.daterange import DateRange, date_range_context, date_range_or_default
from affiliates.roles import scope
from payouts.portal.dashboard_selectors import KpiRow, dashboard_kpis
from payouts.reporting_money import reporting_currency_for
from tracking.portal.traffic import traffic_daily


def _range(request: PortalRequest) -> tuple[DateRange, dict[str, Any], int]:
    """The range asked for (or the default and a 400 with the picker's message)."""
    chosen, error = date_range_or_default(params=request.GET)
    return chosen, date_range_context(request.GET, chosen, error), 400 if error else 200


def _kpi_csv(rows: list[KpiRow], chosen: DateRange, currency: str, name: str) -> HttpResponse:
    """The figures as shown (same range, same comparison), exact decimals."""
    header = ["metric", "value", "currency", "previous", "change", "change_pct", "from", "to"]
    lines = [
        [
            r.label,
            r.value,
            currency if r.kind in ("money", "rate") else "",
            r.previous,
            r.delta.diff,
            None if r.delta.pct is None else r.delta.pct.quantize(Decimal("0.01")),
            chosen.first.isoformat(),
            chosen.last.isoformat(),
        ]
        for r in rows
    ]
    response = HttpResponse(csv_bytes(header, lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{chosen.first}-{chosen.last}.csv"'
    return response


def _chart(chosen: DateRange, **tenant: int | None) -> SafeString:
    """Clicks and conversions per day of the chosen range (the figures' days)."""
    series = traffic_daily(first=chosen.first, last=chosen.last, start=chosen.start, end=chosen.end, **tenant)
    return bar_line_chart(
        title=f"Clicks and conversions per day, {chosen.label} (UTC)",
        labels=series.labels,
        bars=Series("clicks", series.clicks),
        line=Series("conversions", series.conversions),
    )


@publisher_only
def pub_dashboard(request: PortalRequest) -> HttpResponse:
    assert request.publisher is not None  # publisher_only guarantees it
    publisher_id = request.publisher.pk
    chosen, picker, status = _range(request)
    currency = reporting_currency_for(account=request.publisher)
    kpis = dashboard_kpis(
        chosen=chosen, compare=bool(picker["compare"]), currency=currency, publisher_id=publisher_id
    )
    if request.GET.get("format") == "csv" and status == 200:
        return _kpi_csv(kpis, chosen, currency, "dashboard")
    recent = (
        scope(
            OfferAccess.objects.select_related("offer"),
            request.actor,
            advertiser_path=None,
            publisher_path="publisher_id",
        )
        .filter(status=OfferAccess.Status.APPROVED)
        .order_by("-decided_at")[:5]
    )
    return render(
        request,
        "portal/publisher/dashboard.html",
        {
            **picker,
            "kpis": kpis,
            "currency": currency,
            "chart": _chart(chosen, publisher_id=publisher_id),
            "recent": recent,
        },
        status=status,
    )


@advertiser_only
def adv_dashboard(request: PortalRequest) -> HttpResponse:
    adv_id = request.actor.advertiser_id
    chosen, picker, status = _range(request)
    currency = reporting_currency_for(account=request.advertiser)
    kpis = dashboard_kpis(
        chosen=chosen, compare=bool(picker["compare"]), currency=currency, advertiser_id=adv_id
    )
    if request.GET.get("format") == "csv" and status == 200:
        return _kpi_csv(kpis, chosen, currency, "dashboard")
    return render(
        request,
        "portal/advertiser/dashboard.html",
        {
            **picker,
            "kpis": kpis,
            "currency": currency,
            "chart": _chart(chosen, advertiser_id=adv_id),
            "requests": affiliate_selectors.pending_access_requests(advertiser_id=adv_id)[:5],
        },
        status=status,
    )
