"""Multi-touch attribution API: the models side by side, participation, and the journey job on
demand. Thin views over payouts.reports.attribution.selectors and payouts.journeys.tasks."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.roles import actor_for
from payouts.journeys.tasks import journeys_refresh_task
from payouts.reports.api.serializers import cell
from payouts.reports.attribution.selectors import (
    GROUPS,
    MAX_DAYS,
    SCOPES,
    Filters,
    as_of,
    attribution_compare,
    default_range,
    participation,
)
from payouts.reports.dimensions import ReportError
from tracking.models.journeys import MODELS

ROLES = (
    "Staff see every advertiser with credited revenue and payout; advertisers their offers' touches "
    "with credited revenue (their cost), never payout; publishers only their own touches, with payout, "
    "never revenue nor another publisher."
)


def _id(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text=help_text)


class Params(serializers.Serializer[Any]):
    start = serializers.DateField(
        required=False, help_text="First conversion day (UTC); default 29 days before end."
    )
    end = serializers.DateField(required=False, help_text=f"Last day, included; at most {MAX_DAYS} days.")
    scope = serializers.ChoiceField(
        choices=list(SCOPES),
        default="click",
        help_text="click: journeys with a click or coupon; view_through: view-through conversions only "
        "(kept apart).",
    )
    advertiser = _id("Advertiser id (staff; others see their own).")
    offer = _id("Offer id.")
    publisher = _id("Publisher id.")

    def filters(self) -> Filters:
        data = self.validated_data
        start, end = default_range(data.get("end"))
        return Filters(
            start=data.get("start") or start,
            end=data.get("end") or end,
            scope=data["scope"],
            advertiser=data.get("advertiser"),
            offer=data.get("offer"),
            publisher=data.get("publisher"),
        )


class CompareParams(Params):
    by = serializers.ChoiceField(choices=list(GROUPS), default="publisher", help_text="Row grouping.")


class ParticipationParams(Params):
    model = serializers.ChoiceField(
        choices=list(MODELS), default="linear", help_text="The model of the credit share."
    )


def _valid(serializer: type[Params], request: Request) -> Any:
    params = serializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return cell(value)


MONEY_HELP = "Credited {0}: credit x each conversion's {0}, rounded to the currency."
MODEL_CELL = inline_serializer(
    "AttributionModelCell",
    {
        "conversions": serializers.DecimalField(
            None, 2, help_text="Credited conversions (fractions summed)."
        ),
        "revenue": serializers.DecimalField(
            None, 6, required=False, help_text=MONEY_HELP.format("revenue") + " Staff and advertisers."
        ),
        "payout": serializers.DecimalField(
            None, 6, required=False, help_text=MONEY_HELP.format("payout") + " Staff and publishers."
        ),
        "delta": serializers.DictField(
            child=serializers.DecimalField(None, 6),
            help_text="This model minus last click; empty for last click.",
        ),
    },
)
COMPARE = inline_serializer(
    "AttributionComparison",
    {
        "as_of": serializers.DateTimeField(allow_null=True, help_text="When the journey job last ran."),
        "models": serializers.ListField(child=serializers.CharField(), help_text="The models, in order."),
        "rows": inline_serializer(
            "AttributionRow",
            {
                "publisher": serializers.IntegerField(help_text="Publisher id."),
                "sub1": serializers.CharField(required=False, help_text="by=sub1 only."),
                "source": serializers.CharField(required=False, help_text="by=source only."),
                "creative": serializers.CharField(required=False, help_text="by=creative only."),
                "currency": serializers.CharField(
                    help_text="ISO 4217: money is never summed across currencies."
                ),
                "models": serializers.DictField(child=MODEL_CELL, help_text="Keyed by model name."),
            },
            many=True,
            help_text="One row per publisher (and sub id, source or creative) and currency.",
        ),
    },
)


class AttributionView(APIView):
    @extend_schema(
        summary="Attribution models side by side: last click (paid), first click, linear, position-based, "
        "time decay, Markov",
        description=f"Read from the journey tables (computed by the journey job). {ROLES}",
        parameters=[CompareParams],
        responses={200: COMPARE},
    )
    def get(self, request: Request) -> Response:
        params = _valid(CompareParams, request)
        rows = attribution_compare(
            actor=actor_for(request.user), filters=params.filters(), by=params.validated_data["by"]
        )
        return Response({"as_of": cell(as_of()), "models": list(MODELS), "rows": _json(rows)})


class ParticipationView(APIView):
    @extend_schema(
        summary="Participation: conversions each publisher touched, its roles and its share of credit",
        description=f"Roles: introducer (first touch), influencer (between), closer (last). {ROLES}",
        parameters=[ParticipationParams],
        responses={
            200: inline_serializer(
                "ParticipationRow",
                {
                    "publisher": serializers.IntegerField(help_text="Publisher id."),
                    "conversions_touched": serializers.IntegerField(help_text="Journeys it is in."),
                    "introducer": serializers.IntegerField(help_text="Journeys it introduced."),
                    "influencer": serializers.IntegerField(help_text="Journeys it influenced."),
                    "closer": serializers.IntegerField(help_text="Journeys it closed."),
                    "credited_conversions": serializers.DecimalField(None, 2, help_text="Under `model`."),
                    "credit_share": serializers.DecimalField(
                        None, 2, allow_null=True, help_text="Percent: credited / touched."
                    ),
                },
                many=True,
            )
        },
    )
    def get(self, request: Request) -> Response:
        params = _valid(ParticipationParams, request)
        rows = participation(
            actor=actor_for(request.user), filters=params.filters(), model=params.validated_data["model"]
        )
        return Response(_json(rows))


class JourneysRefreshView(APIView):
    @extend_schema(
        summary="Queue the journey job now (staff)",
        description="Recomputes journeys, credits and assists of the last `days` (default the setting).",
        parameters=[
            inline_serializer(
                "JourneysRefreshParams",
                {
                    "days": serializers.IntegerField(
                        required=False, min_value=1, max_value=400, help_text="Days back."
                    )
                },
            )
        ],
        request=None,
        responses={
            202: inline_serializer(
                "JourneysQueued", {"queued": serializers.BooleanField(help_text="The job was queued.")}
            )
        },
    )
    def post(self, request: Request) -> Response:
        if not actor_for(request.user).is_staff:
            raise ReportError(
                "Only staff run the job.", code="forbidden", status_code=status.HTTP_403_FORBIDDEN
            )
        days = serializers.IntegerField(required=False, min_value=1, max_value=400)
        raw = request.query_params.get("days")
        journeys_refresh_task.delay(days=days.run_validation(raw) if raw else None)
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)
