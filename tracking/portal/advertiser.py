"""Advertiser pages that show traffic: the offers table and the publishers table, each with its
clicks and conversions over the range picked (affiliates.portal.daterange; default the last 30
days) against the previous period (the offer form itself is affiliates.portal's)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from affiliates import selectors as affiliate_selectors
from affiliates.models import Offer
from affiliates.portal.access import PortalRequest, advertiser_only
from affiliates.portal.daterange import DateRange, Delta, date_range_context, date_range_or_default
from affiliates.roles import scope
from tracking.portal.traffic import advertiser_publishers, offer_stats


def _range(request: PortalRequest) -> tuple[DateRange, dict[str, Any], int]:
    chosen, error = date_range_or_default(params=request.GET, default="30d")
    return chosen, date_range_context(request.GET, chosen, error), 400 if error else 200


def _deltas(now: dict[str, int], before: dict[str, int] | None) -> dict[str, Delta]:
    """Clicks and conversions against the previous period ({} when not compared)."""
    if before is None:
        return {}
    return {k: Delta(now.get(k, 0), before.get(k, 0)) for k in ("clicks", "conversions")}


@advertiser_only
def adv_offers(request: PortalRequest) -> HttpResponse:
    adv_id = request.actor.advertiser_id or 0
    chosen, picker, status = _range(request)
    rows = scope(Offer.objects.all(), request.actor, advertiser_path="advertiser_id", publisher_path=None)
    stats = offer_stats(advertiser_id=adv_id, start=chosen.start, end=chosen.end)
    before: dict[int, dict[str, int]] | None = None
    if picker["compare"]:
        prev = chosen.previous()
        before = offer_stats(advertiser_id=adv_id, start=prev.start, end=prev.end)
    empty = {"clicks": 0, "conversions": 0, "publishers": 0}
    table = [
        {
            "offer": o,
            **stats.get(o.pk, empty),
            "deltas": _deltas(stats.get(o.pk, empty), None if before is None else before.get(o.pk, empty)),
        }
        for o in rows.prefetch_related("goals")
    ]
    return render(request, "portal/advertiser/offers.html", {**picker, "rows": table}, status=status)


@advertiser_only
def adv_publishers(request: PortalRequest) -> HttpResponse:
    adv_id = request.actor.advertiser_id or 0
    chosen, picker, status = _range(request)
    rows = advertiser_publishers(advertiser_id=adv_id, start=chosen.start, end=chosen.end)
    if picker["compare"]:
        prev = chosen.previous()
        earlier = {
            r["publisher"].pk: r
            for r in advertiser_publishers(advertiser_id=adv_id, start=prev.start, end=prev.end)
        }
        for row in rows:
            row["deltas"] = _deltas(row, earlier.get(row["publisher"].pk, {}))
    context = {
        **picker,
        "rows": rows,
        "requests": affiliate_selectors.pending_access_requests(advertiser_id=adv_id),
    }
    return render(request, "portal/advertiser/publishers.html", context, status=status)
