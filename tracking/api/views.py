"""GET /api/v1/conversions/ and /api/v1/conversions/{id}/, scoped by affiliates.roles:
a publisher sees its own, an advertiser those it posted or on its offers, staff all."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets

from affiliates.api.base import TenantScopedMixin
from tracking.api.filters import ConversionFilter
from tracking.api.serializers import ConversionDetailSerializer, ConversionSerializer
from tracking.models import Conversion


class ConversionViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet[Conversion]):
    queryset = Conversion.objects.with_reconciled().select_related("goal")
    advertiser_path = "advertiser_id"
    publisher_path = "publisher_id"
    filterset_class = ConversionFilter
    ordering_fields = ["created_at", "id", "amount"]
    search_fields = ["txn_id", "coupon", "sub1"]

    def get_queryset(self) -> Any:
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related("events")
        return qs

    def get_serializer_class(self) -> Any:
        return ConversionDetailSerializer if self.action == "retrieve" else ConversionSerializer
