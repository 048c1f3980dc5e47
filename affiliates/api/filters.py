"""Query filters for the affiliates API (django-filter).

Related objects are filtered by plain number (``?offer=12``, lookups.IdFilter), never by a choice
field: a choice field would answer 400 for an id that does not exist and 200 for one that does,
telling a tenant which of another tenant's ids exist. Every filter set derives from
lookups.IdFilterSet, which does the same for the foreign keys it generates.
"""

from __future__ import annotations

from typing import Any

import django_filters as df
from django.db.models import QuerySet

from affiliates.api.lookups import IdFilter, IdFilterSet
from affiliates.models import Advertiser, Cap, Coupon, CustomPayout, Goal, Offer, OfferAccess, Publisher


def _json_list_contains(qs: QuerySet[Any], field: str, value: str) -> QuerySet[Any]:
    # JSON "contains" is PostgreSQL-only; matching the quoted element in the JSON text works on
    # both databases and the lists hold short upper/lower-case codes only.
    return qs.filter(**{f"{field}__icontains": f'"{value}"'})


class CreatedRangeFilterSet(IdFilterSet):
    created_after = df.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = df.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )


class AdvertiserFilter(CreatedRangeFilterSet):
    class Meta:
        model = Advertiser
        fields = ["status", "currency"]


class PublisherFilter(CreatedRangeFilterSet):
    class Meta:
        model = Publisher
        fields = ["status", "payout_method", "payout_currency"]


class OfferFilter(CreatedRangeFilterSet):
    advertiser = IdFilter(field_name="advertiser_id", help_text="Advertiser id.")
    payout_type = df.ChoiceFilter(
        choices=Goal.PayoutType.choices,
        method="filter_payout_type",
        help_text="Offers with a goal of this payout type.",
    )
    country = df.CharFilter(method="filter_country", help_text="Offers targeting this country (or all).")

    class Meta:
        model = Offer
        fields = ["advertiser", "status", "visibility", "category", "currency", "attribution_model"]

    def filter_payout_type(self, qs: QuerySet[Offer], name: str, value: str) -> QuerySet[Offer]:
        return qs.filter(id__in=Goal.objects.filter(payout_type=value).values("offer_id"))

    def filter_country(self, qs: QuerySet[Offer], name: str, value: str) -> QuerySet[Offer]:
        everywhere = qs.filter(target_countries=[])
        return everywhere | _json_list_contains(qs, "target_countries", value.upper()[:2])


class GoalFilter(IdFilterSet):
    offer = IdFilter(field_name="offer_id", help_text="Offer id.")

    class Meta:
        model = Goal
        fields = ["offer", "payout_type", "code", "is_default"]


class CustomPayoutFilter(IdFilterSet):
    offer = IdFilter(field_name="offer_id", help_text="Offer id.")
    publisher = IdFilter(field_name="publisher_id", help_text="Publisher id.")
    goal = IdFilter(field_name="goal_id", help_text="Goal id.")

    class Meta:
        model = CustomPayout
        fields = ["offer", "publisher", "goal"]


class CapFilter(IdFilterSet):
    offer = IdFilter(field_name="offer_id", help_text="Offer id.")
    publisher = IdFilter(field_name="publisher_id", help_text="Publisher id.")

    class Meta:
        model = Cap
        fields = ["offer", "publisher", "metric", "period", "scope"]


class CouponFilter(IdFilterSet):
    offer = IdFilter(field_name="offer_id", help_text="Offer id.")
    publisher = IdFilter(field_name="publisher_id", help_text="Publisher id.")

    class Meta:
        model = Coupon
        fields = ["offer", "publisher", "active"]


class OfferAccessFilter(CreatedRangeFilterSet):
    offer = IdFilter(field_name="offer_id", help_text="Offer id.")
    publisher = IdFilter(field_name="publisher_id", help_text="Publisher id.")

    class Meta:
        model = OfferAccess
        fields = ["offer", "publisher", "status"]
