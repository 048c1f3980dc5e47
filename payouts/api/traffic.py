"""``POST /api/v1/traffic/invalidate/``: staff judge clicks and impressions invalid after the fact.

Thin: the input is validated here, ``payouts.traffic_review.traffic_judge`` does the work (the
same service as the staff fraud page). ``"confirm": false`` (the default) answers what would
happen and writes nothing; ``true`` applies it: the clicks and impressions get the
``invalidated`` flag, their CPC and CPM lines shrink and the ledger carries the decrease.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.api.base import IsStaff
from affiliates.core.db import MAX_ID
from affiliates.roles import Act
from payouts.traffic_review import MAX_ROWS, SUB_FIELDS, TRAFFIC, Judgement, Selection, traffic_judge


class InvalidateInput(serializers.Serializer[Any]):
    click_ids = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=MAX_ROWS,
        help_text="The clicks to invalidate, by id; or give publisher, sub, value, start and end.",
    )
    impression_ids = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=MAX_ROWS,
        help_text="The impressions to invalidate, by id (with or without click_ids).",
    )
    publisher = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="The publisher whose clicks or impressions to pick.",
    )
    traffic = serializers.ChoiceField(
        choices=TRAFFIC, default="clicks", help_text="Picking by publisher: clicks or impressions."
    )
    sub = serializers.ChoiceField(choices=SUB_FIELDS, default="sub1", help_text="Which sub id to match.")
    value = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="The sub id's value."
    )
    start = serializers.DateTimeField(required=False, help_text="From (inclusive), ISO 8601.")
    end = serializers.DateTimeField(required=False, help_text="To (exclusive), ISO 8601.")
    reason = serializers.CharField(max_length=150, help_text="Why: kept on the ledger's decrease.")
    confirm = serializers.BooleanField(
        default=False, help_text="false: only say what would change (nothing is written); true: apply it."
    )


class LineChangeSerializer(serializers.Serializer[Any]):
    commission = serializers.IntegerField(help_text="The CPC or CPM daily line (a commission id).")
    kind = serializers.CharField(help_text="cpc (pays clicks) or cpm (pays impressions).")
    offer = serializers.CharField(help_text="The line's offer.")
    publisher = serializers.CharField(help_text="The line's publisher.")
    day = serializers.DateField(help_text="The line's UTC day.")
    currency = serializers.CharField(help_text="ISO 4217 code of the amounts.")
    quantity_before = serializers.IntegerField(help_text="Valid clicks or impressions the line pays now.")
    quantity_after = serializers.IntegerField(help_text="Those it pays after the invalidation.")
    revenue_before = serializers.CharField(help_text="The line's revenue now (decimal string).")
    revenue_after = serializers.CharField(help_text="Its revenue after (decimal string).")
    payout_before = serializers.CharField(help_text="The line's payout now (decimal string).")
    payout_after = serializers.CharField(help_text="Its payout after (decimal string).")


class JudgementSerializer(serializers.Serializer[Any]):
    clicks = serializers.IntegerField(help_text="Clicks picked that were not invalidated yet.")
    paid_clicks = serializers.IntegerField(help_text="Of those, how many a CPC line paid.")
    impressions = serializers.IntegerField(help_text="Impressions picked that were not invalidated yet.")
    paid_impressions = serializers.IntegerField(help_text="Of those, how many a CPM line paid.")
    applied = serializers.BooleanField(help_text="Whether it was applied (confirm) or only previewed.")
    lines = LineChangeSerializer(many=True, help_text="The lines that shrink, before and after.")


def judgement_data(judgement: Judgement) -> dict[str, Any]:
    return {
        "clicks": judgement.clicks,
        "paid_clicks": judgement.paid_clicks,
        "impressions": judgement.impressions,
        "paid_impressions": judgement.paid_impressions,
        "applied": judgement.applied,
        "lines": [
            {
                "commission": ln.commission_id,
                "kind": ln.kind,
                "offer": ln.offer,
                "publisher": ln.publisher,
                "day": ln.day,
                "currency": ln.currency,
                "quantity_before": ln.quantity[0],
                "quantity_after": ln.quantity[1],
                "revenue_before": str(ln.revenue[0]),
                "revenue_after": str(ln.revenue[1]),
                "payout_before": str(ln.payout[0]),
                "payout_after": str(ln.payout[1]),
            }
            for ln in judgement.lines
        ],
    }


class TrafficInvalidateView(APIView):
    permission_classes = [IsStaff]
    role_act = Act.REVIEW_FRAUD

    @extend_schema(
        summary="Invalidate clicks and impressions after the fact (staff)",
        request=InvalidateInput,
        responses=JudgementSerializer,
    )
    def post(self, request: Request) -> Response:
        data = InvalidateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        selection = Selection(
            click_ids=tuple(v.get("click_ids") or ()),
            impression_ids=tuple(v.get("impression_ids") or ()),
            publisher_id=v.get("publisher"),
            traffic=v["traffic"],
            sub=v["sub"],
            value=v["value"],
            start=v.get("start"),
            end=v.get("end"),
        )
        judgement = traffic_judge(
            selection=selection, reason=v["reason"], actor=f"staff:{request.user.pk}", confirm=v["confirm"]
        )
        return Response(JudgementSerializer(judgement_data(judgement)).data)
