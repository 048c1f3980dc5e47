"""Customer-value API: cohorts, new vs returning, LTV:CAC, and the job on demand. Thin views over
payouts.reports.customers (selectors for reads, the Celery task for the refresh)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.roles import actor_for
from payouts.models.customers import HORIZONS
from payouts.reports.api.serializers import cell
from payouts.reports.customers.selectors import MAX_DAYS, MAX_MONTHS, cohort_table, customer_mix, ltv_cac
from payouts.reports.dimensions import ReportError
from payouts.reports.tasks import customer_value_refresh_task

ROLES = (
    "Advertisers see their own customers (sale amounts and cost, never payout or publisher names), "
    "publishers only the customers they brought first (orders and payout, never revenue), staff all."
)


def _id(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text=help_text)


def _months_back(months: int) -> date:
    today = timezone.now().date().replace(day=1)
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


class MonthsParams(serializers.Serializer[Any]):
    start = serializers.DateField(
        required=False, help_text="First cohort month (any day of it, YYYY-MM-DD); default 11 months ago."
    )
    end = serializers.DateField(
        required=False,
        help_text=f"Last cohort month, included; default this month; at most {MAX_MONTHS} months.",
    )
    advertiser = _id("Advertiser id (staff; others see their own).")
    publisher = _id("The publisher owning the customers.")

    def months(self) -> tuple[date, date]:
        data = self.validated_data
        return data.get("start") or _months_back(11), data.get("end") or _months_back(0)


class CohortParams(MonthsParams):
    # DRF's metaclass moves declared fields out of the class, so this does not shadow Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, max_length=255, help_text="Traffic source of the customers' first conversions."
    )


class LtvParams(MonthsParams):
    horizon = serializers.ChoiceField(
        choices=list(HORIZONS), default=90, help_text="Days after each customer's first conversion."
    )
    by = serializers.ChoiceField(
        choices=["publisher", "source"], default="publisher", help_text="Row grouping."
    )


class MixParams(serializers.Serializer[Any]):
    start = serializers.DateField(required=False, help_text="First UTC day; default 29 days before end.")
    end = serializers.DateField(required=False, help_text=f"Last UTC day, included; at most {MAX_DAYS} days.")
    by = serializers.ChoiceField(
        choices=["publisher", "source"], default="publisher", help_text="Row grouping."
    )
    advertiser = _id("Advertiser id (staff; others see their own).")
    publisher = _id("Publisher id.")


def _valid(serializer: type[serializers.Serializer[Any]], request: Request) -> Any:
    params = serializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params


def _json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (_json([v])[0] if isinstance(v, dict) else cell(v)) for k, v in row.items()} for row in rows]


HORIZON_CELL = inline_serializer(
    "CohortHorizon",
    {
        "orders": serializers.IntegerField(
            help_text="Valid conversions of the cohort's customers within the horizon."
        ),
        "revenue": serializers.DecimalField(None, 6, required=False, help_text="Staff only."),
        "payout": serializers.DecimalField(None, 6, required=False, help_text="Staff and publishers."),
        "margin": serializers.DecimalField(
            None, 6, required=False, help_text="Revenue - payout. Staff only."
        ),
        "sale_amount": serializers.DecimalField(
            None, 6, required=False, help_text="What the customers spent. Staff and advertisers."
        ),
        "cost": serializers.DecimalField(
            None, 6, required=False, help_text="The advertiser's spend. Advertisers."
        ),
        "complete": serializers.BooleanField(
            help_text="False while the month's last customers have not had the whole horizon yet."
        ),
    },
)
COHORTS = inline_serializer(
    "CohortTable",
    {
        "as_of": serializers.DateTimeField(allow_null=True, help_text="When the job last ran."),
        "metrics": serializers.ListField(
            child=serializers.CharField(), help_text="The money your role sees."
        ),
        "rows": inline_serializer(
            "CohortRow",
            {
                "cohort_month": serializers.DateField(
                    help_text="First day of the customers' first-conversion month."
                ),
                "currency": serializers.CharField(
                    help_text="ISO 4217: money is never summed across currencies."
                ),
                "customers": serializers.IntegerField(help_text="New customers of the month."),
                "horizons": serializers.DictField(
                    child=HORIZON_CELL, help_text="Keyed by 30, 60, 90 and 180 (days), cumulated."
                ),
            },
            many=True,
            help_text="One row per cohort month and currency.",
        ),
    },
)


class CohortView(APIView):
    @extend_schema(
        summary="Cohorts by first-conversion month: customers, orders and money at 30/60/90/180 days",
        description=f"Computed nightly (and on demand) into rollups. {ROLES}",
        parameters=[CohortParams],
        responses={200: COHORTS},
    )
    def get(self, request: Request) -> Response:
        params = _valid(CohortParams, request)
        start, end = params.months()
        data = params.validated_data
        table = cohort_table(
            actor=actor_for(request.user),
            start=start,
            end=end,
            advertiser=data.get("advertiser"),
            publisher=data.get("publisher"),
            source=data.get("source"),
        )
        return Response(
            {"as_of": cell(table.as_of), "metrics": list(table.metrics), "rows": _json(table.rows)}
        )


class MixView(APIView):
    @extend_schema(
        summary="New vs returning customers' orders per publisher (or publisher and source)",
        description=f"Reported customer_type wins; else a customer's first conversion is new. {ROLES}",
        parameters=[MixParams],
        responses={
            200: inline_serializer(
                "CustomerMixRow",
                {
                    "publisher": serializers.IntegerField(help_text="Publisher id."),
                    "publisher_name": serializers.CharField(required=False, help_text="Not for advertisers."),
                    "source": serializers.CharField(required=False, help_text="by=source only."),
                    "new_orders": serializers.IntegerField(help_text="Orders of new customers."),
                    "returning_orders": serializers.IntegerField(help_text="Orders of returning customers."),
                    "new_share": serializers.DecimalField(None, 6, allow_null=True, help_text="Percent new."),
                },
                many=True,
            )
        },
    )
    def get(self, request: Request) -> Response:
        data = _valid(MixParams, request).validated_data
        end = data.get("end") or timezone.now().date()
        start = data.get("start") or end.fromordinal(end.toordinal() - 29)
        rows = customer_mix(
            actor=actor_for(request.user),
            start=start,
            end=end,
            by=data["by"],
            advertiser=data.get("advertiser"),
            publisher=data.get("publisher"),
        )
        return Response(_json(rows))


class LtvView(APIView):
    @extend_schema(
        summary="LTV:CAC per publisher (or publisher and source)",
        description="Over the cohorts of the chosen months at `horizon` days. Staff: LTV = revenue per "
        "customer, CAC = payout of the first orders per customer. Advertisers: LTV = what the customers "
        "spent per customer, CAC = what their first orders cost. Publishers: 403.",
        parameters=[LtvParams],
        responses={
            200: inline_serializer(
                "LtvCacRow",
                {
                    "publisher": serializers.IntegerField(help_text="The publisher owning the customers."),
                    "publisher_name": serializers.CharField(required=False, help_text="Staff only."),
                    "source": serializers.CharField(required=False, help_text="by=source only."),
                    "currency": serializers.CharField(help_text="ISO 4217 of ltv and cac."),
                    "customers": serializers.IntegerField(help_text="New customers of the cohorts."),
                    "ltv": serializers.DecimalField(
                        None, 6, allow_null=True, help_text="Value per customer."
                    ),
                    "cac": serializers.DecimalField(
                        None, 6, allow_null=True, help_text="Acquisition cost per customer."
                    ),
                    "ltv_cac": serializers.DecimalField(None, 6, allow_null=True, help_text="LTV / CAC."),
                },
                many=True,
            )
        },
    )
    def get(self, request: Request) -> Response:
        params = _valid(LtvParams, request)
        start, end = params.months()
        data = params.validated_data
        rows = ltv_cac(
            actor=actor_for(request.user),
            start=start,
            end=end,
            horizon=data["horizon"],
            by=data["by"],
            advertiser=data.get("advertiser"),
            publisher=data.get("publisher"),
        )
        return Response(_json(rows))


class RefreshView(APIView):
    @extend_schema(
        summary="Queue the customer-value job now (staff)",
        description="The nightly job, on demand: `?full=1` reads every conversion instead of the window.",
        request=None,
        responses={
            202: inline_serializer(
                "CustomerValueQueued", {"queued": serializers.BooleanField(help_text="The job was queued.")}
            )
        },
    )
    def post(self, request: Request) -> Response:
        if not actor_for(request.user).is_staff:
            raise ReportError(
                "Only staff run the job.", code="forbidden", status_code=status.HTTP_403_FORBIDDEN
            )
        customer_value_refresh_task.delay(full=request.query_params.get("full") in ("1", "true"))
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)
