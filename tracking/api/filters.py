from __future__ import annotations

import django_filters

from affiliates.api.lookups import IdFilterSet
from tracking.models import Conversion
from tracking.models.conversions import ConversionStatus


class ConversionFilter(IdFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ConversionStatus.choices)
    goal_code = django_filters.CharFilter(field_name="goal__code")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Conversion
        fields = ["offer", "publisher", "goal", "goal_code", "status", "held_for_review", "source", "txn_id"]
