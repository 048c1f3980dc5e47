"""Reads of who is who and what is on offer: the marketplace and the access-request queue.

Reads that also need tracking's or payouts' rows (KPI tiles, per-publisher numbers) are the
portal's, in affiliates.portal.selectors.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from affiliates.models import Cap, Goal, Offer, OfferAccess, Publisher
from affiliates.roles import offers_visible_to_publisher_q


def marketplace_offers(
    *, publisher: Publisher, q: str = "", category: str = "", country: str = "", payout_type: str = ""
) -> list[Offer]:
    """Live offers this publisher may see, with ``access_status`` (None when never applied)."""
    access = OfferAccess.objects.filter(offer=OuterRef("pk"), publisher=publisher)
    qs = (
        Offer.objects.filter(offers_visible_to_publisher_q(publisher.pk), status=Offer.Status.ACTIVE)
        .select_related("advertiser")
        .prefetch_related("goals", "caps")
        .annotate(access_status=Subquery(access.values("status")[:1]))
        .distinct()
        .order_by("name", "id")
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(category__icontains=q))
    if category:
        qs = qs.filter(category=category)
    if payout_type:
        qs = qs.filter(Exists(Goal.objects.filter(offer=OuterRef("pk"), payout_type=payout_type)))
    offers: list[Offer] = list(qs)
    if country:
        # JSON "contains" is not portable to SQLite; the marketplace is small enough to filter here.
        code = country.upper()
        offers = [o for o in offers if not o.target_countries or code in o.target_countries]
    return offers


def marketplace_categories() -> list[str]:
    rows = (
        Offer.objects.filter(status=Offer.Status.ACTIVE)
        .exclude(category="")
        .values_list("category", flat=True)
    )
    return sorted(set(rows))


def pending_access_requests(*, advertiser_id: int | None) -> QuerySet[OfferAccess]:
    """Applications awaiting a decision: one advertiser's, or every one for staff (None)."""
    qs = OfferAccess.objects.filter(status=OfferAccess.Status.PENDING).select_related(
        "offer", "offer__advertiser", "publisher"
    )
    if advertiser_id is not None:
        qs = qs.filter(offer__advertiser_id=advertiser_id)
    return qs.order_by("created_at", "id")


def offer_down_note(*, offer: Offer, at: datetime | None = None) -> str:
    """Why a publisher's link for ``offer`` earns nothing now and where its clicks go; empty
    when the offer is live. The click path sends such clicks to the fallback offer, else the
    offer's fallback URL, else the network's default page (tracking.clickpath.rules.fallback)."""
    at = at or timezone.now()
    if offer.is_live(at):
        return ""
    if offer.status == Offer.Status.PAUSED:
        state = "The advertiser paused this offer"
    elif offer.status == Offer.Status.EXPIRED or (offer.ends_at is not None and offer.ends_at <= at):
        state = "This offer has ended"
    else:
        state = f"This offer starts on {offer.starts_at:%b %d, %Y %H:%M} UTC"
    if offer.fallback_offer_id is not None and offer.fallback_offer is not None:
        where = f"the fallback offer “{offer.fallback_offer.name}”"
    elif offer.fallback_url:
        where = "the advertiser's fallback page"
    else:
        where = "the network's default page"
    return f"{state}: clicks on your links go to {where} and earn nothing on this offer until it is live."


def offer_caps_for(*, offer: Offer, publisher: Publisher) -> list[str]:
    """The offer's caps that bind ``publisher``, as sentences. Revenue caps are left out: what
    the advertiser pays is not the publisher's to see (the API and the trace hide it too)."""
    # offer.caps.all(): a marketplace that prefetched "caps" asks no query per offer.
    caps = sorted(
        (
            c
            for c in offer.caps.all()
            if c.metric != Cap.Metric.REVENUE and c.publisher_id in (None, publisher.pk)
        ),
        key=lambda c: (c.metric, c.period, c.pk),
    )
    lines = []
    for cap in caps:
        amount = f"{cap.limit.normalize():f}"
        what = (
            f"{amount} {offer.currency} payout"
            if cap.metric == Cap.Metric.PAYOUT
            else f"{amount} {cap.metric}"
        )
        who = "for you" if cap.publisher_id or cap.scope == Cap.Scope.EACH_PUBLISHER else "for all publishers"
        lines.append(f"{what} per {cap.period} {who}")
    return lines
