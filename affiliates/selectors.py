"""Reads of who is who and what is on offer: the marketplace and the access-request queue.

Reads that also need tracking's or payouts' rows (KPI tiles, per-publisher numbers) are the
portal's, in affiliates.portal.selectors.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from affiliates.models import Goal, Offer, OfferAccess, Publisher
from affiliates.roles import offers_visible_to_publisher_q


def marketplace_offers(
    *, publisher: Publisher, q: str = "", category: str = "", country: str = "", payout_type: str = ""
) -> list[Offer]:
    """Live offers this publisher may see, with ``access_status`` (None when never applied)."""
    access = OfferAccess.objects.filter(offer=OuterRef("pk"), publisher=publisher)
    qs = (
        Offer.objects.filter(offers_visible_to_publisher_q(publisher.pk), status=Offer.Status.ACTIVE)
        .select_related("advertiser")
        .prefetch_related("goals")
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
