"""Advertiser pages that show traffic: the offers table and the publishers table, each with its
30-day clicks and conversions (the offer form itself is affiliates.portal's)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from affiliates import selectors as affiliate_selectors
from affiliates.models import Offer
from affiliates.portal.access import PortalRequest, advertiser_only
from affiliates.roles import scope
from tracking.portal.traffic import advertiser_publishers, offer_stats


@advertiser_only
def adv_offers(request: PortalRequest) -> HttpResponse:
    rows = scope(Offer.objects.all(), request.actor, advertiser_path="advertiser_id", publisher_path=None)
    stats = offer_stats(advertiser_id=request.actor.advertiser_id or 0)
    empty = {"clicks": 0, "conversions": 0, "publishers": 0}
    table = [{"offer": o, **stats.get(o.pk, empty)} for o in rows.prefetch_related("goals")]
    return render(request, "portal/advertiser/offers.html", {"rows": table})


@advertiser_only
def adv_publishers(request: PortalRequest) -> HttpResponse:
    adv_id = request.actor.advertiser_id or 0
    return render(
        request,
        "portal/advertiser/publishers.html",
        {
            "rows": advertiser_publishers(advertiser_id=adv_id),
            "requests": affiliate_selectors.pending_access_requests(advertiser_id=adv_id),
        },
    )
