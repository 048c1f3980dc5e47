"""What a rule sees: one slice of the report rollups over its window, and the rules an actor sees.

Rules read the hourly rollups (tracking.models.reports, filled by payouts.reports), never the
raw clicks table: a check costs one indexed aggregate over at most ``window_hours`` hours of
one offer. The offer cube serves offer and publisher scopes; sub ids need the full rollup,
which keeps sub1; a traffic source reads the hourly source cube (HourlySourceStat, kept by the
same refresh), which has the offer cube's key plus the source (CPC and CPM daily lines reach it
through their shares, split by source since payouts migration 0025). An A/B variant is read
from its own daily rollup (AbVariantDaily, refreshed hourly by the A/B tests' tick): its window
widens to the whole UTC days the hours touch, and it knows clicks, converting clicks, revenue
and payout, not sale amounts or fraud flags (so ROAS and fraud share are not offered for it). A
smart link's path is read the same way from its daily rollup (SmartPathDaily, refreshed by the
smart links' tick), with the same limits.
Metrics come from payouts.reports.metrics, the reports' own definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from affiliates.roles import Actor, scope
from payouts.automation.models import Firing, Metric, Rule, Scope
from payouts.experiments.models import AbVariantDaily
from payouts.reports.metrics import PLACES, derive, fraud_share, metrics_for
from payouts.reports.services import floor_hour
from tracking.models.reports import (
    ROLLUP_AMOUNTS,
    ROLLUP_COUNTERS,
    HourlyOfferStat,
    HourlySourceStat,
    HourlyStat,
)
from tracking.models.smartlinks import SmartPathDaily

# The report metric each rule metric reads (one definition each, in payouts.reports.metrics).
METRIC_KEYS: dict[str, str] = {
    Metric.CPA: "cpa",
    Metric.CVR: "cvr",
    Metric.CPC: "cpc",
    Metric.EPC: "epc",
    Metric.ROAS: "roas",
    Metric.MARGIN: "margin",
    Metric.CLICKS: "gross_clicks",
    Metric.CONVERSIONS: "conversions",
    Metric.FRAUD_SHARE: "fraud_share",
}
SHOWN = (
    "gross_clicks",
    "conversions",
    "cost",
    "revenue",
    "payout",
    "sale_amount",
    "cvr",
    "cpc",
    "cpa",
    "epc",
    "roas",
    "margin",
    "fraud_share",
)


@dataclass(frozen=True)
class Window:
    start: datetime  # first UTC hour
    end: datetime  # exclusive: the end of the current hour


def window_for(rule: Rule, now: datetime) -> Window:
    """The ``window_hours`` UTC hours up to and including the current one."""
    end = floor_hour(now) + timedelta(hours=1)
    return Window(start=end - timedelta(hours=rule.window_hours), end=end)


def _rows(rule: Rule, window: Window) -> QuerySet[Any]:
    needs_sub1 = bool(rule.sub1)
    model: Any = HourlyStat if needs_sub1 else HourlyOfferStat
    if rule.scope == Scope.SOURCE:
        model = HourlySourceStat
    rows = model.objects.filter(
        offer_id=rule.offer_id, currency=rule.offer.currency, hour__gte=window.start, hour__lt=window.end
    )
    if rule.publisher_id:
        rows = rows.filter(publisher_id=rule.publisher_id)
    if rule.scope == Scope.SOURCE:
        rows = rows.filter(source=rule.source)
    elif needs_sub1:
        rows = rows.filter(sub1=rule.sub1)
    result: QuerySet[Any] = rows
    return result


# What a variant's or a smart path's daily rollup cannot tell: rules on them may not use these.
VARIANT_UNMEASURED = frozenset({Metric.ROAS, Metric.FRAUD_SHARE})
# Scopes measured from a daily rollup of their own rather than the hourly report rollups.
DAILY_SCOPES = frozenset({Scope.VARIANT, Scope.SMART_PATH})


def _daily_sums(rule: Rule, window: Window) -> dict[str, Any]:
    """A variant's or smart path's rollup days as the hourly rollups' counters: converting
    clicks count as approved conversions (the rollups keep earning ones, pending or approved,
    together)."""
    last_day = (window.end - timedelta(microseconds=1)).date()
    days: QuerySet[Any]
    if rule.scope == Scope.SMART_PATH:
        days = SmartPathDaily.objects.filter(path_id=rule.smart_path_id)
    else:
        days = AbVariantDaily.objects.filter(variant_id=rule.variant_id)
    sums = days.filter(day__gte=window.start.date(), day__lte=last_day).aggregate(
        clicks=Sum("clicks"), conversions=Sum("conversions"), revenue=Sum("revenue"), payout=Sum("payout")
    )
    row: dict[str, Any] = {name: None for name in (*ROLLUP_COUNTERS, *ROLLUP_AMOUNTS)}
    row.update(
        gross_clicks=sums["clicks"],
        conv_approved=sums["conversions"],
        revenue=sums["revenue"],
        payout=sums["payout"],
    )
    return row


def rule_measure(*, rule: Rule, window: Window) -> dict[str, Any]:
    """Every report metric of the rule's slice in the window (None where undefined)."""
    names = (*ROLLUP_COUNTERS, *ROLLUP_AMOUNTS)
    if rule.scope in DAILY_SCOPES:
        sums = _daily_sums(rule, window)
    else:
        sums = _rows(rule, window).aggregate(**{name: Sum(name) for name in names})
    # Amounts quantized to the stored places: SQLite's SUM drops trailing zeros, PostgreSQL's keeps them.
    row = {name: sums[name] or 0 for name in ROLLUP_COUNTERS}
    row.update({name: Decimal(sums[name] or 0).quantize(PLACES) for name in ROLLUP_AMOUNTS})
    values = derive(row)
    values["fraud_share"] = None if rule.scope in DAILY_SCOPES else fraud_share(row)
    return values


def metric_value(rule: Rule, values: dict[str, Any]) -> Decimal | None:
    value = values[METRIC_KEYS[rule.metric]]
    return None if value is None else Decimal(value)


def values_shown(values: dict[str, Any]) -> dict[str, str | None]:
    """The numbers a firing stores: decimal strings, None where undefined."""
    return {name: None if values[name] is None else str(values[name]) for name in SHOWN}


def values_for(actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    """A firing's numbers as the actor may see them (advertisers never see payout, EPC or margin)."""
    allowed = {*metrics_for(actor), "gross_clicks", "fraud_share"}
    return {name: value for name, value in values.items() if name in allowed}


def rules_visible(*, actor: Actor) -> QuerySet[Rule]:
    """Staff: every rule; an advertiser: the rules on its offers; anyone else: none."""
    rules = Rule.objects.select_related(
        "offer", "publisher", "creative", "variant__test", "smart_path__smart_link"
    ).order_by("-id")
    if not (actor.is_staff or actor.is_advertiser):
        return rules.none()
    return scope(rules, actor, advertiser_path="advertiser_id", publisher_path=None)


def firings_visible(*, actor: Actor) -> QuerySet[Firing]:
    firings = Firing.objects.select_related("rule", "rule__offer", "undone_by", "webhook").order_by(
        "-created_at", "-id"
    )
    if not (actor.is_staff or actor.is_advertiser):
        return firings.none()
    return scope(firings, actor, advertiser_path="rule__advertiser_id", publisher_path=None)


def scope_label(rule: Rule) -> str:
    parts = [f"offer {rule.offer}"]
    if rule.scope == Scope.CREATIVE and rule.creative is not None:
        parts.insert(0, f"creative {rule.creative}")
    if rule.scope == Scope.VARIANT and rule.variant is not None:
        parts.insert(0, f"variant {rule.variant} of A/B test {rule.variant.test}")
    if rule.scope == Scope.SMART_PATH and rule.smart_path is not None:
        parts.insert(0, f"path {rule.smart_path} of smart link {rule.smart_path.smart_link}")
    if rule.publisher_id:
        parts.append(f"publisher {rule.publisher}")
    if rule.sub1:
        parts.append(f"sub1 {rule.sub1!r}")
    if rule.scope == Scope.SOURCE:
        parts.insert(0, f"source {rule.source!r}")
    return ", ".join(parts)
