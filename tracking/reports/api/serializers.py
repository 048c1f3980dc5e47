from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from tracking.models.reports import OfferTarget
from tracking.reports.selectors import MAX_LIMIT, Report


class ReportParamsSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    tz = serializers.CharField(required=False, default="UTC", max_length=64)
    group_by = serializers.CharField(required=False, default="day", max_length=200)
    order_by = serializers.CharField(required=False, max_length=64)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)


class EffectParamsSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    tz = serializers.CharField(required=False, default="UTC", max_length=64)
    by = serializers.ChoiceField(choices=["offer", "publisher", "sub1"], default="publisher")
    offer = serializers.IntegerField(required=False, min_value=1)


def cell(value: Any) -> Any:
    """JSON-safe values: Decimals as strings (never floats), dates and times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def report_data(report: Report) -> dict[str, Any]:
    query = report.query
    return {
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "tz": query.tz.key,
        "group_by": list(query.group_by),
        "filters": {k: list(v) for k, v in query.filters.items()},
        "source": report.source,
        "columns": list(report.columns),
        "rows": [{k: cell(row.get(k)) for k in report.columns} for row in report.rows],
        "totals": [{k: cell(v) for k, v in total.items()} for total in report.totals],
        "truncated": report.truncated,
    }


class OfferTargetSerializer(serializers.ModelSerializer[OfferTarget]):
    class Meta:
        model = OfferTarget
        fields = ["offer", "period", "conversions", "updated_at"]
        read_only_fields = ["offer", "updated_at"]
