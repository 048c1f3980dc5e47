"""Reads for the policy pages and API: what each role sees, and the naming report.

The naming report splits a field's values by its template's parts and adds up their numbers:
sub1 from the daily rollups (clicks, conversions and money, never a scan of the clicks table);
sub2-sub5 and the source, which the rollups do not keep, from the clicks of the range (clicks
only), bounded by MAX_RAW_DAYS.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from affiliates.core.errors import DomainError
from affiliates.roles import Actor, scope, scope_q
from tracking.models.clicks import Click
from tracking.models.policy import FrequencyCap, ListEntry, NamingTemplate
from tracking.models.reports import DailyStat
from tracking.policy.naming import UNMATCHED, naming_split, template_parts

MAX_RAW_DAYS = 31


def _own(qs: QuerySet[Any], actor: Actor) -> QuerySet[Any]:
    # Network-wide lists and caps (no advertiser) are no account manager's: scope hides them.
    return scope(qs, actor, advertiser_path="advertiser_id", publisher_path=None)


def list_entries_visible(*, actor: Actor) -> QuerySet[ListEntry]:
    return _own(ListEntry.objects.select_related("advertiser", "offer"), actor)


def frequency_caps_visible(*, actor: Actor) -> QuerySet[FrequencyCap]:
    return _own(FrequencyCap.objects.select_related("advertiser", "offer"), actor)


def _tenant(actor: Actor, *, advertiser: str, publisher: str) -> Q:
    return scope_q(actor, advertiser_path=advertiser, publisher_path=publisher)


def _rows_sub1(actor: Actor, start: date, end: date) -> list[dict[str, Any]]:
    base = DailyStat.objects.filter(_tenant(actor, advertiser="advertiser_id", publisher="publisher_id"))
    rows: Any = (
        base.filter(day__gte=start, day__lte=end)
        .values("sub1", "currency")
        .annotate(
            n_clicks=Sum("gross_clicks"),
            n_approved=Sum("conv_approved"),
            n_pending=Sum("conv_pending"),
            total_revenue=Sum("revenue"),
            total_payout=Sum("payout"),
        )
    )
    return [
        {
            "value": r["sub1"],
            "currency": r["currency"],
            "clicks": r["n_clicks"] or 0,
            "conversions": (r["n_approved"] or 0) + (r["n_pending"] or 0),
            "revenue": r["total_revenue"] or Decimal("0"),
            "payout": r["total_payout"] or Decimal("0"),
        }
        for r in rows
    ]


def _rows_raw(actor: Actor, field: str, start: date, end: date) -> list[dict[str, Any]]:
    if (end - start).days >= MAX_RAW_DAYS:
        raise DomainError(
            f"{field} is split from raw clicks: at most {MAX_RAW_DAYS} days.", code="range_too_long"
        )
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = since + timedelta(days=(end - start).days + 1)
    qs = Click.objects.filter(_tenant(actor, advertiser="offer__advertiser_id", publisher="publisher_id"))
    qs = qs.filter(created_at__gte=since, created_at__lt=until).values(field).annotate(clicks=Count("pk"))
    return [{"value": r[field], "currency": "", "clicks": r["clicks"], "conversions": None} for r in qs]


def naming_report(
    *, actor: Actor, template: NamingTemplate, group_by: list[str], start: date, end: date
) -> list[dict[str, Any]]:
    """One row per combination of the ``group_by`` parts (and currency), biggest first;
    values that do not follow the template are one row with each part ``(unmatched)``."""
    parts = template_parts(template.pattern)
    unknown = [name for name in group_by if name not in parts]
    if unknown or not group_by:
        raise DomainError(f"Group by one or more of: {', '.join(parts)}.", code="bad_group_by")
    if template.field == NamingTemplate.Field.SUB1:
        raw = _rows_sub1(actor, start, end)
    else:
        raw = _rows_raw(actor, template.field, start, end)
    money = not actor.is_publisher
    totals: dict[tuple[str, ...], dict[str, Any]] = defaultdict(
        lambda: {"clicks": 0, "conversions": 0, "revenue": Decimal("0"), "payout": Decimal("0")}
    )
    for row in raw:
        split = naming_split(template.pattern, row["value"]) if row["value"] else None
        key = (*((split or {}).get(name, UNMATCHED) for name in group_by), row["currency"])
        acc = totals[key]
        acc["clicks"] += row["clicks"]
        if row["conversions"] is None:
            acc["conversions"] = None
        elif acc["conversions"] is not None:
            acc["conversions"] += row["conversions"]
        acc["revenue"] += row.get("revenue", Decimal("0"))
        acc["payout"] += row.get("payout", Decimal("0"))
    out = []
    for key, acc in totals.items():
        row = {"parts": dict(zip(group_by, key[:-1], strict=True)), "currency": key[-1], **acc}
        if not money:
            row.pop("revenue")
        if template.field != NamingTemplate.Field.SUB1:
            row.pop("revenue", None)
            row.pop("payout", None)
        out.append(row)
    out.sort(key=lambda r: (-r["clicks"], tuple(r["parts"].values())))
    return out
