"""Report input and output shapes. Amounts and ratios are decimal strings, never floats."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from affiliates.offer_targets import OfferTarget
from payouts.reports.dimensions import DIMENSIONS, MAX_FILTER_VALUES, MAX_ROLLUP_DAYS
from payouts.reports.selectors import MAX_LIMIT, Report

DATES = "Local dates in `tz`, both included; default: the last seven days, today included."
AMOUNT = "in the row's currency, the exact sum with six decimal places"
STAFF_ADV = "Staff and advertisers only."
STAFF_PUB = "Staff and publishers only."


class ReportParamsSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(required=False, help_text=f"First day (YYYY-MM-DD). {DATES}")
    end = serializers.DateField(
        required=False, help_text=f"Last day (YYYY-MM-DD), at most {MAX_ROLLUP_DAYS} days after start."
    )
    tz = serializers.CharField(
        required=False,
        default="UTC",
        max_length=64,
        help_text="IANA time zone (Europe/Paris) the days and hours are in. Zones offset by half or "
        "quarter hours are computed from raw events, at most 31 days.",
    )
    group_by = serializers.CharField(
        required=False,
        default="day",
        max_length=200,
        help_text=f"Comma-separated columns to group by: {', '.join(DIMENSIONS)}. sub2-sub5 read raw "
        "events, at most 31 days.",
    )
    order_by = serializers.CharField(
        required=False,
        max_length=64,
        help_text="A column of the result, `-` first for descending (`-payout`); empty values sort "
        "last. Default: by the group-by columns.",
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text="Rows returned at most (default 10000); `truncated` says when rows were cut.",
    )


class EffectParamsSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(required=False, help_text=f"First day (YYYY-MM-DD). {DATES}")
    end = serializers.DateField(required=False, help_text="Last day (YYYY-MM-DD), included.")
    tz = serializers.CharField(
        required=False, default="UTC", max_length=64, help_text="IANA time zone the days are in."
    )
    by = serializers.ChoiceField(
        choices=["offer", "publisher", "sub1"],
        default="publisher",
        help_text="Score each offer, or each publisher or sub1 per offer.",
    )
    offer = serializers.IntegerField(required=False, min_value=1, help_text="Only this offer.")


# Filters: each a comma-separated list of values, or the parameter repeated.
FILTER_HELP = {
    "advertiser": "Advertiser ids. Staff only: advertisers and publishers are scoped to their own.",
    "offer": "Offer ids.",
    "publisher": "Publisher ids. A publisher only ever sees its own traffic.",
    "goal": "Goal ids.",
    "country": "ISO 3166 alpha-2 country codes of the visitor (US,DE).",
    "device": "Device classes: desktop, mobile, tablet, other.",
    **{f"sub{n}": f"Values of the publisher's sub id {n}." for n in range(1, 6)},
}
FILTER_NOTE = f"Comma-separated, up to {MAX_FILTER_VALUES} values, or the parameter repeated."


def _ratio(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=None, decimal_places=6, allow_null=True, required=False, help_text=help_text
    )


def _amount(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=6, required=False, help_text=help_text)


def _count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, help_text=help_text)


class ReportMetricsSerializer(serializers.Serializer[Any]):
    """Every metric a report can hold; each actor gets the subset its role may see (see
    payouts/reports/metrics.py). Ratios are null when their denominator is zero."""

    currency = serializers.CharField(help_text="ISO 4217 code: money is never summed across currencies.")
    impressions = _count("Impressions counted.")
    gross_clicks = _count("Every click, unique or not, valid or not.")
    unique_clicks = _count("First click of a visitor on the offer within its unique_click_window_hours.")
    invalid_clicks = _count("Clicks not sent to the offer (paused offer, cap reached, no access...).")
    flagged_clicks = _count("Clicks with fraud flags. Staff only.")
    paid_clicks = _count("Valid clicks, the ones CPC lines pay: redirected, unique, no fraud flag.")
    bot_clicks = _count(f"Clicks from bot user agents (earn nothing). {STAFF_ADV}")
    datacenter_clicks = _count(f"Clicks from datacenter networks (earn nothing). {STAFF_ADV}")
    duplicate_clicks = _count(f"Repeat clicks within the offer's unique window (earn nothing). {STAFF_ADV}")
    flood_clicks = _count(f"Clicks over CLICK_FLOOD_PER_HOUR from one IP (earn nothing). {STAFF_ADV}")
    invalidated_clicks = _count(f"Clicks judged invalid after they were recorded (earn nothing). {STAFF_ADV}")
    invalid_impressions = _count(f"Repeat or flagged impressions, which CPM does not pay. {STAFF_ADV}")
    ctr = _ratio("Click-through rate, percent: gross clicks / impressions x 100.")
    conversions = _count("Pending + approved conversions.")
    conv_pending = _count("Conversions pending approval.")
    conv_approved = _count("Approved conversions.")
    conv_rejected = _count("Rejected conversions (earn nothing).")
    conv_reversed = _count("Reversed conversions (chargebacks, refunds).")
    conv_flagged = _count("Conversions flagged by fraud rules or held for review. Staff only.")
    cvr = _ratio("Conversion rate, percent: conversions / gross clicks x 100.")
    leads = _count("Pending or approved conversions on CPL goals.")
    sales = _count("Earning commissions that carry a sale amount.")
    sale_amount = _amount(f"Sales reported by the advertiser, {AMOUNT}.")
    aov = _ratio("Average order value: sale amount / sales.")
    revenue = _amount(f"What advertisers owe the network, {AMOUNT}. Staff only.")
    payout = _amount(f"What publishers earn, {AMOUNT}. {STAFF_PUB}")
    margin = _amount(f"Revenue - payout, {AMOUNT}. Staff only.")
    cost = _amount(f"The advertiser's spend (the network's revenue), {AMOUNT}. Advertisers only.")
    epc = _ratio(f"Earnings per click: payout / gross clicks. {STAFF_PUB}")
    cpc = _ratio(f"Cost per click: revenue / gross clicks. {STAFF_ADV}")
    cpl = _ratio(f"Cost per lead: revenue of CPL goals / leads. {STAFF_ADV}")
    cpa = _ratio(f"Cost per action: revenue / conversions. {STAFF_ADV}")
    roas = _ratio(f"Return on ad spend, a ratio: sale amount / revenue. {STAFF_ADV}")
    quality = _ratio(f"Share of clicks and conversions not flagged by fraud rules, 0 to 1. {STAFF_ADV}")
    effect_score = _ratio(
        "(conversions / the offer's target prorated to the range) x quality / CPA; null without a "
        f"target (offer-targets/) or conversions. {STAFF_ADV}"
    )
    value_multiple = _ratio(
        "reports/effect/ by publisher only: how many first orders' worth the publisher's customers brought "
        "within the advertiser's value_horizon_days (90 or 180); the effect score is multiplied by it. Null "
        "when the advertiser counts first orders only (0) or there is no customer data."
    )


class ReportRowSerializer(ReportMetricsSerializer):
    """A result row: the group-by columns asked for, their labels, the currency and the metrics."""

    day = serializers.DateField(required=False, help_text="Local day (group_by=day).")
    hour = serializers.DateTimeField(
        required=False, help_text="Start of the local hour, with its UTC offset (group_by=hour)."
    )
    offer = serializers.IntegerField(required=False, help_text="Offer id (group_by=offer).")
    offer_name = serializers.CharField(required=False, help_text="The offer's name, beside its id.")
    publisher = serializers.IntegerField(required=False, help_text="Publisher id (group_by=publisher).")
    publisher_name = serializers.CharField(
        required=False, help_text="The publisher's name; not shown to advertisers, who see ids only."
    )
    goal = serializers.IntegerField(
        required=False, allow_null=True, help_text="Goal id (group_by=goal); null for clicks and impressions."
    )
    goal_code = serializers.CharField(required=False, help_text="The goal's code, beside its id.")
    country = serializers.CharField(required=False, help_text="ISO 3166 country of the visitor.")
    device = serializers.CharField(required=False, help_text="Device class of the visitor.")
    sub1 = serializers.CharField(required=False, help_text="Publisher's sub id 1.")
    sub2 = serializers.CharField(required=False, help_text="Publisher's sub id 2 (raw events, 31 days).")
    sub3 = serializers.CharField(required=False, help_text="Publisher's sub id 3 (raw events, 31 days).")
    sub4 = serializers.CharField(required=False, help_text="Publisher's sub id 4 (raw events, 31 days).")
    sub5 = serializers.CharField(required=False, help_text="Publisher's sub id 5 (raw events, 31 days).")


def cell(value: Any) -> Any:
    """JSON-safe values: Decimals as strings (never floats), dates and times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class ReportSerializer(serializers.Serializer[Report]):
    """A report. Rows and totals are plain dicts built here (not per-field serializers): a report
    can hold 100,000 rows. Their documented shape is ReportRow / ReportMetrics."""

    start = serializers.DateField(source="query.start", help_text="First local day covered.")
    end = serializers.DateField(source="query.end", help_text="Last local day covered (included).")
    tz = serializers.CharField(source="query.tz.key", help_text="Time zone of the days and hours.")
    group_by = serializers.ListField(
        source="query.group_by", child=serializers.CharField(), help_text="The group-by columns, in order."
    )
    filters = serializers.SerializerMethodField(
        help_text="The filters applied, by name: a list of values each."
    )
    # DRF's metaclass moves declared fields out of the class, so this does not shadow Field.source.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["daily", "hourly", "raw"],
        help_text="What answered: daily or hourly rollups, or raw events (sub2-sub5, odd time zones).",
    )
    columns = serializers.ListField(
        child=serializers.CharField(),
        help_text="The keys of each row, in order: group-by columns, labels, currency, then the metrics "
        "your role may see. The CSV format has these columns.",
    )
    rows = serializers.SerializerMethodField(help_text="One object per group, keyed by `columns`.")
    totals = serializers.SerializerMethodField(
        help_text="The metrics summed over every row (truncated ones included), one object per currency."
    )
    truncated = serializers.BooleanField(help_text="True when more rows matched than `limit`.")
    as_of = serializers.DateTimeField(
        help_text="The moment (UTC) this answer covers events up to: now, or the range's end if earlier."
    )

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            },
            "description": "Ids (advertiser, offer, publisher, goal) are integers; the other values text.",
        }
    )
    def get_filters(self, report: Report) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in report.query.filters.items()}

    @extend_schema_field(ReportRowSerializer(many=True))
    def get_rows(self, report: Report) -> list[dict[str, Any]]:
        return [{k: cell(row.get(k)) for k in report.columns} for row in report.rows]

    @extend_schema_field(ReportMetricsSerializer(many=True))
    def get_totals(self, report: Report) -> list[dict[str, Any]]:
        return [{k: cell(v) for k, v in total.items()} for total in report.totals]


class OfferTargetSerializer(serializers.ModelSerializer[OfferTarget]):
    class Meta:
        model = OfferTarget
        fields = ["offer", "period", "conversions", "updated_at"]
        read_only_fields = ["offer", "updated_at"]
