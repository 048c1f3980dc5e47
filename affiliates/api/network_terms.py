"""``GET /api/v1/network-terms/`` (anyone signed in: publishers see the floor they must meet) and
``PUT`` (staff): the network's minimum payout."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.api.base import IsStaff
from affiliates.models import NetworkTerms
from affiliates.network_terms import network_terms_get, network_terms_set


class NetworkTermsSerializer(serializers.ModelSerializer[NetworkTerms]):
    class Meta:
        model = NetworkTerms
        fields = ["minimum_payout", "minimum_payout_currency", "updated_at"]
        read_only_fields = ["updated_at"]
        # PUT replaces the terms: both are required (the model's defaults made them optional,
        # and a PUT without them failed with a KeyError, a 500).
        extra_kwargs = {"minimum_payout": {"required": True}, "minimum_payout_currency": {"required": True}}


class NetworkTermsView(APIView):
    def get_permissions(self) -> Any:
        return [IsStaff()] if self.request.method == "PUT" else super().get_permissions()

    @extend_schema(responses=NetworkTermsSerializer)
    def get(self, request: Request) -> Response:
        return Response(NetworkTermsSerializer(network_terms_get()).data)

    @extend_schema(request=NetworkTermsSerializer, responses=NetworkTermsSerializer)
    def put(self, request: Request) -> Response:
        data = NetworkTermsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        terms = network_terms_set(
            minimum_payout=data.validated_data["minimum_payout"],
            currency=data.validated_data["minimum_payout_currency"],
        )
        return Response(NetworkTermsSerializer(terms).data)
