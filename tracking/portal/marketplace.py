"""The publisher's offer marketplace. It lives in tracking.portal, not beside the offer pages in
affiliates.portal, because each card shows the offer's network-wide EPC, read from tracking's
daily rollups (pages live in the lowest app whose data they show). The EPC covers the range
picked with the one range picker (affiliates.portal.daterange; default the last 30 days),
against its previous period."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from affiliates import selectors as affiliate_selectors
from affiliates.core.money import money_round
from affiliates.models import Offer
from affiliates.portal.access import PortalRequest, publisher_only
from affiliates.portal.daterange import Delta, date_range_context, date_range_or_default
from affiliates.portal.forms import MarketplaceFilter
from affiliates.validators import TRAFFIC_TYPES
from tracking.models.reports import DailyOfferStat

EPC_DAYS = 30


def offer_epcs(
    *, offers: list[Offer], days: int = EPC_DAYS, first: date | None = None, last: date | None = None
) -> dict[int, Decimal]:
    """Earnings per click over the UTC days ``first``..``last`` (default: the last ``days``),
    every publisher's traffic: earning payout in the offer's currency over gross clicks.
    Offers without clicks are left out."""
    last = last or timezone.now().date()
    first = first or last - timedelta(days=days - 1)
    currency = {o.pk: o.currency for o in offers}
    rows = (
        DailyOfferStat.objects.filter(offer_id__in=list(currency), day__gte=first, day__lte=last)
        .values("offer_id", "currency")
        .annotate(clicks=Sum("gross_clicks"), payout=Sum("payout"))
    )
    clicks: dict[int, int] = {}
    payout: dict[int, Decimal] = {}
    for row in rows:
        offer_id = row["offer_id"]
        clicks[offer_id] = clicks.get(offer_id, 0) + (row["clicks"] or 0)
        if row["currency"] == currency[offer_id]:
            payout[offer_id] = payout.get(offer_id, Decimal(0)) + (row["payout"] or Decimal(0))
    return {
        pk: money_round(payout.get(pk, Decimal(0)) / n, currency[pk]) for pk, n in clicks.items() if n > 0
    }


@publisher_only
def marketplace(request: PortalRequest) -> HttpResponse:
    publisher = request.publisher
    assert publisher is not None  # publisher_only guarantees it
    form = MarketplaceFilter(request.GET or None, categories=affiliate_selectors.marketplace_categories())
    filters = form.cleaned_data if form.is_valid() else {}
    offers = affiliate_selectors.marketplace_offers(
        publisher=publisher, **{k: v for k, v in filters.items() if v}
    )
    chosen, error = date_range_or_default(params=request.GET, default="30d")
    picker = date_range_context(request.GET, chosen, error)
    epcs = offer_epcs(offers=offers, first=chosen.first, last=chosen.last)
    before: dict[int, Decimal] = {}
    if picker["compare"]:
        previous = chosen.previous()
        before = offer_epcs(offers=offers, first=previous.first, last=previous.last)
    cards = [
        {
            "offer": offer,
            "epc": epcs.get(offer.pk),
            "epc_delta": Delta(epcs.get(offer.pk), before.get(offer.pk)),
            "caps": affiliate_selectors.offer_caps_for(offer=offer, publisher=publisher),
            "traffic": [TRAFFIC_TYPES[t] for t in offer.allowed_traffic if t in TRAFFIC_TYPES],
        }
        for offer in offers
    ]
    filtered = any(request.GET.get(name) for name in form.fields)
    context = {**picker, "form": form, "offers": offers, "cards": cards, "filtered": filtered}
    return render(request, "portal/publisher/marketplace.html", context, status=400 if error else 200)
