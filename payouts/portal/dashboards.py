"""The publisher and advertiser dashboards (the staff overview is console_pages'): traffic beside the money it
earned. They show commissions, so they live here, in the lowest app that may read them."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString

from affiliates import selectors as affiliate_selectors
from affiliates.models import OfferAccess
from affiliates.portal.access import PortalRequest, advertiser_only, publisher_only
from affiliates.portal.charts import Series, bar_line_chart
from affiliates.portal.selectors import PERIODS, period_bounds
from affiliates.roles import scope
from payouts.portal.dashboard_selectors import traffic_kpis
from tracking.portal.traffic import DailySeries, traffic_daily


def _period(request: PortalRequest) -> str:
    period = request.GET.get("period", "7d")
    return period if period in PERIODS else "7d"


def _chart(series: DailySeries) -> SafeString:
    return bar_line_chart(
        title="Clicks and conversions per day, last 30 days (UTC)",
        labels=series.labels,
        bars=Series("clicks", series.clicks),
        line=Series("conversions", series.conversions),
    )


@publisher_only
def pub_dashboard(request: PortalRequest) -> HttpResponse:
    assert request.publisher is not None  # publisher_only guarantees it
    publisher_id = request.publisher.pk
    period = _period(request)
    start, end = period_bounds(period)
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
            "kpis": traffic_kpis(start=start, end=end, publisher_id=publisher_id),
            "period": period,
            "periods": PERIODS,
            "chart": _chart(traffic_daily(days=30, publisher_id=publisher_id)),
            "recent": recent,
        },
    )


@advertiser_only
def adv_dashboard(request: PortalRequest) -> HttpResponse:
    adv_id = request.actor.advertiser_id
    period = _period(request)
    start, end = period_bounds(period)
    kpis = traffic_kpis(start=start, end=end, advertiser_id=adv_id)
    cpa = {c: v / kpis.conversions for c, v in kpis.money.items()} if kpis.conversions else {}
    return render(
        request,
        "portal/advertiser/dashboard.html",
        {
            "kpis": kpis,
            "cpa": cpa,
            "period": period,
            "periods": PERIODS,
            "chart": _chart(traffic_daily(days=30, advertiser_id=adv_id)),
            "requests": affiliate_selectors.pending_access_requests(advertiser_id=adv_id)[:5],
        },
    )
