from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from affiliates.api.lookups import IdFilterSet
from affiliates.models import Advertiser
from affiliates.roles import actor_for, visible
from tracking.conversions.customers import customer_hash
from tracking.conversions.params import MAX_CUSTOMER_ID_LENGTH
from tracking.models import Conversion
from tracking.models.conversions import ConversionStatus

CUSTOMER_HELP = (
    "The advertiser's own customer id, as sent in postbacks' customer_id: hashed here with each "
    "advertiser's key you can see, never stored or compared raw. Advertisers and staff only: a "
    "publisher's request gets no rows."
)


class CustomerFilter(django_filters.CharFilter):
    """``?customer=<raw id>``: the conversions of that customer. The id is hashed with the key of
    every advertiser the caller sees (one for an advertiser), so staff find the customer at any
    advertiser. Publishers never filter by customer (it would tell them whether a given person
    bought): for them it matches nothing, as an id they cannot see does."""

    def __init__(self, *, advertiser_path: str, hash_path: str, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_CUSTOMER_ID_LENGTH)
        kwargs.setdefault("help_text", CUSTOMER_HELP)
        super().__init__(**kwargs)
        self.advertiser_path, self.hash_path = advertiser_path, hash_path

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        actor = actor_for(self.parent.request.user)
        if not (actor.is_staff or actor.is_advertiser):
            return qs.none()
        keys = visible(Advertiser.objects.all(), actor)
        match = Q(pk__in=[])
        for adv_id, key in keys.values_list("pk", "customer_key"):
            hashed = customer_hash(key=key, customer_id=value)
            match |= Q(**{self.advertiser_path: adv_id, self.hash_path: hashed})
        return qs.filter(match)


class ConversionFilter(IdFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ConversionStatus.choices)
    goal_code = django_filters.CharFilter(field_name="goal__code")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    customer = CustomerFilter(advertiser_path="advertiser_id", hash_path="customer_hash")

    class Meta:
        model = Conversion
        fields = ["offer", "publisher", "goal", "goal_code", "status", "held_for_review", "source", "txn_id"]
