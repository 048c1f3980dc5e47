"""Raw events as report facts: one aggregate query per source, unioned and summed.

Five sources feed a report: clicks, impressions, conversions, conversion commissions and the
daily CPC/CPM commission lines. Each is grouped by the asked dimensions and yields every
rollup counter (zeros where the source has none), so their ``UNION ALL`` sums to one row per
key. The same SQL builds the rollups (grouped by UTC hour and every rollup dimension) and
answers raw reports (sub2-sub5, half-hour time zones, the benchmark's baseline): one
definition of every metric, which is what makes rollup totals equal raw totals.

Time of each fact: a click's, impression's or conversion's ``created_at``; a conversion's
commission sits at its conversion's time (a later approval or reversal changes the numbers of
the conversion's hour, not of the hour it happened in); a daily CPC/CPM line has only a UTC
day, and sits at 00:00 UTC of that day. A daily line is read through its shares
(payouts/traffic_shares.py): the line split over the country, device, sub1-sub5 and source of the valid
traffic it paid, so grouping by sub1 puts CPC and CPM money on its sub1 values, and the shares
of a line sum to the line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateTimeField,
    DecimalField,
    F,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncHour
from django.db.models.lookups import Contains
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from affiliates.core.money import MONEY_DIGITS, MONEY_PLACES
from payouts.models import Commission, CommissionShare
from tracking.models import Click, Conversion, Impression
from tracking.models.clicks import ClickFlag
from tracking.models.reports import ROLLUP_AMOUNTS, ROLLUP_COUNTERS

MONEY: DecimalField[Any, Any] = DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
EARNING = ("pending", "approved")


@dataclass(frozen=True)
class Source:
    name: str
    model: type[Any]
    time: Callable[[], Any]
    paths: Mapping[str, str | None]  # dimension -> lookup; None: the source has no such dimension
    metrics: Callable[[], dict[str, Any]]
    base: Q
    window: Callable[[datetime, datetime], Q]


def _count(q: Any = None) -> Count:
    return Count("pk", filter=q)


def _money(field: str, q: Q) -> Coalesce:
    return Coalesce(Sum(field, filter=q), Value(Decimal("0")), output_field=MONEY)


def _created_window(path: str = "created_at") -> Callable[[datetime, datetime], Q]:
    return lambda start, end: Q(**{f"{path}__gte": start, f"{path}__lt": end})


def _line_window(start: datetime, end: datetime) -> Q:
    # A daily line's instant is 00:00 UTC of its day: keep the days whose midnight is in range.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = start.date() if start.time() == time.min else start.date() + timedelta(days=1)
    last = (end - timedelta(microseconds=1)).date()
    return Q(commission__day__gte=first, commission__day__lte=last)


def _traffic_paths() -> dict[str, str | None]:
    paths: dict[str, str | None] = {
        "advertiser": "offer__advertiser_id",
        "offer": "offer_id",
        "publisher": "publisher_id",
        "goal": None,
        "currency": "offer__currency",
        "country": "country",
        "device": "device",
        "source": "source",
    }
    paths.update({f"sub{i}": f"sub{i}" for i in range(1, 6)})
    return paths


def _flagged(flag: str) -> Any:
    """Rows whose fraud flags include ``flag``: the JSON list as text holds it quoted (a JSON
    containment lookup is PostgreSQL-only; this reads the same on both databases)."""
    return Contains(Cast("fraud_flags", TextField()), Value(f'"{flag}"'))


def _click_metrics() -> dict[str, Any]:
    return {
        "gross_clicks": _count(),
        "unique_clicks": _count(Q(is_unique=True)),
        "invalid_clicks": _count(~Q(reason="")),
        "flagged_clicks": _count(~Q(fraud_flags=[])),
        "paid_clicks": _count(Q(reason="", is_unique=True, fraud_flags=[])),
        "bot_clicks": _count(_flagged(ClickFlag.BOT)),
        "datacenter_clicks": _count(_flagged(ClickFlag.DATACENTER)),
        "duplicate_clicks": _count(Q(is_unique=False)),
        "flood_clicks": _count(_flagged(ClickFlag.FLOOD)),
        "invalidated_clicks": _count(_flagged(ClickFlag.INVALIDATED)),
    }


def _impression_metrics() -> dict[str, Any]:
    return {"impressions": _count(), "invalid_impressions": _count(Q(is_unique=False) | ~Q(fraud_flags=[]))}


def _conversion_metrics() -> dict[str, Any]:
    by_status = {f"conv_{s}": _count(Q(status=s)) for s in ("pending", "approved", "rejected", "reversed")}
    return {
        **by_status,
        "conv_flagged": _count(~Q(fraud_flags=[]) | Q(held_for_review=True)),
        "leads": _count(Q(status__in=EARNING, goal__payout_type="cpl")),
    }


def _commission_metrics() -> dict[str, Any]:
    earning = Q(status__in=EARNING)
    return {
        "revenue": _money("revenue", earning),
        "payout": _money("payout", earning),
        "sale_amount": _money("sale_amount", earning & Q(sale_amount__isnull=False)),
        "sales": _count(earning & Q(sale_amount__isnull=False)),
        "lead_revenue": _money("revenue", earning & Q(goal__payout_type="cpl")),
    }


def _conversion_paths(prefix: str) -> dict[str, str | None]:
    paths: dict[str, str | None] = {
        "advertiser": "offer__advertiser_id",
        "offer": "offer_id",
        "publisher": "publisher_id",
        "goal": "goal_id",
        "currency": "offer__currency",
        "country": f"{prefix}country",
        "device": f"{prefix}click__device",
        "source": f"{prefix}source_id",
    }
    paths.update({f"sub{i}": f"{prefix}sub{i}" for i in range(1, 6)})
    return paths


def _commission_paths(prefix: str) -> dict[str, str | None]:
    paths = _conversion_paths(prefix)
    paths.update({"advertiser": "advertiser_id", "currency": "currency"})
    return paths


def _share_paths() -> dict[str, str | None]:
    """A daily line's share: the line's keys, and the visitor attributes of its own traffic."""
    paths: dict[str, str | None] = {
        "advertiser": "commission__advertiser_id",
        "offer": "commission__offer_id",
        "publisher": "commission__publisher_id",
        "goal": "commission__goal_id",
        "currency": "commission__currency",
        "country": "country",
        "device": "device",
        "source": "source",
    }
    paths.update({f"sub{i}": f"sub{i}" for i in range(1, 6)})
    return paths


def _share_metrics() -> dict[str, Any]:
    earning = Q(commission__status__in=EARNING)
    return {"revenue": _money("revenue", earning), "payout": _money("payout", earning)}


SOURCES: tuple[Source, ...] = (
    Source(
        "clicks", Click, lambda: F("created_at"), _traffic_paths(), _click_metrics, Q(), _created_window()
    ),
    Source(
        "impressions",
        Impression,
        lambda: F("created_at"),
        _traffic_paths(),
        _impression_metrics,
        Q(),
        _created_window(),
    ),
    Source(
        "conversions",
        Conversion,
        lambda: F("created_at"),
        _conversion_paths(""),
        _conversion_metrics,
        Q(offer__isnull=False, publisher__isnull=False),
        _created_window(),
    ),
    Source(
        "conversion_commissions",
        Commission,
        lambda: F("conversion__created_at"),
        _commission_paths("conversion__"),
        _commission_metrics,
        Q(kind=Commission.Kind.CONVERSION),
        _created_window("conversion__created_at"),
    ),
    Source(
        "daily_commissions",
        CommissionShare,
        lambda: Cast("commission__day", DateTimeField()),
        _share_paths(),
        _share_metrics,
        Q(),
        _line_window,
    ),
)

TEXT_ATTRIBUTES = frozenset(
    {"currency", "country", "device", "sub1", "sub2", "sub3", "sub4", "sub5", "source"}
)


def _attribute(source: Source, name: str) -> Any:
    path = source.paths[name]
    if name in TEXT_ATTRIBUTES:
        if path is None:
            return Value("", output_field=CharField())
        # Left joins (a conversion without a click) give NULL; reports show it as "".
        return Coalesce(F(path), Value(""), output_field=CharField())
    if path is None:
        return Cast(Value(None), BigIntegerField())
    return F(path)


def time_expression(kind: str, source: Source, tz: tzinfo) -> Any:
    """``hour_utc`` (rollup key), or a local ``day`` / ``hour`` in ``tz``."""
    if kind == "hour_utc":
        return TruncHour(source.time(), tzinfo=UTC, output_field=DateTimeField())
    if kind == "hour":
        return TruncHour(source.time(), tzinfo=tz, output_field=DateTimeField())
    return TruncDate(source.time(), tzinfo=tz)


#: An account manager's scope (selectors._scope): rows of these advertisers OR these publishers,
#: one condition where every other filter is ANDed.
MANAGED = ("managed_advertiser", "managed_publisher")


def source_queryset(
    source: Source,
    *,
    start: datetime,
    end: datetime,
    dims: Sequence[str],
    filters: Mapping[str, Sequence[object]],
    tz: tzinfo = UTC,
) -> QuerySet[Any]:
    """One source's facts in [start, end) grouped by ``dims``, every counter present."""
    qs: QuerySet[Any] = source.model.objects.filter(source.base & source.window(start, end))
    names = {d: f"dim_{d}" for d in dims}
    qs = qs.annotate(
        **{
            alias: time_expression(d, source, tz)
            if d in ("hour_utc", "day", "hour")
            else _attribute(source, d)
            for d, alias in names.items()
        }
    )
    if MANAGED[0] in filters:
        qs = qs.alias(m_adv=_attribute(source, "advertiser"), m_pub=_attribute(source, "publisher"))
        qs = qs.filter(Q(m_adv__in=filters[MANAGED[0]]) | Q(m_pub__in=filters[MANAGED[1]]))
    for name, values in filters.items():
        if name in MANAGED:
            continue
        if name == "goal" and source.paths["goal"] is None:
            continue  # clicks and impressions belong to no goal: a goal filter narrows only conversions
        alias = names.get(name)
        if alias is None:
            alias = f"f_{name}"
            qs = qs.alias(**{alias: _attribute(source, name)})
        qs = qs.filter(**{f"{alias}__in": values})
    provided = source.metrics()
    metrics: dict[str, Any] = {}
    for counter in ROLLUP_COUNTERS:
        metrics[f"m_{counter}"] = provided.get(counter, Value(0, output_field=BigIntegerField()))
    for amount in ROLLUP_AMOUNTS:
        metrics[f"m_{amount}"] = provided.get(amount, Value(Decimal("0"), output_field=MONEY))
    grouped: QuerySet[Any] = qs.values(*names.values()).annotate(**metrics)
    return grouped.values(*names.values(), *metrics).order_by()


def facts_sql(
    *,
    start: datetime,
    end: datetime,
    dims: Sequence[str],
    filters: Mapping[str, Sequence[object]] | None = None,
    tz: tzinfo = UTC,
) -> tuple[str, tuple[Any, ...]]:
    """``SELECT dims..., SUM(counters)... FROM (UNION ALL of the sources) GROUP BY dims``."""
    parts: list[str] = []
    params: list[Any] = []
    for source in SOURCES:
        qs = source_queryset(source, start=start, end=end, dims=dims, filters=filters or {}, tz=tz)
        sql, p = qs.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS {source.name}")  # noqa: S608 (compiled by the ORM)
        params.extend(p)
    cols = [f"dim_{d}" for d in dims]
    sums = [f"SUM(m_{m}) AS m_{m}" for m in (*ROLLUP_COUNTERS, *ROLLUP_AMOUNTS)]
    union = " UNION ALL ".join(parts)
    select = ", ".join([*cols, *sums])
    group = f" GROUP BY {', '.join(cols)}" if cols else ""
    return f"SELECT {select} FROM ({union}) AS facts{group}", tuple(params)  # noqa: S608


def fetch_facts(
    *,
    start: datetime,
    end: datetime,
    dims: Sequence[str],
    filters: Mapping[str, Sequence[object]] | None = None,
    tz: tzinfo = UTC,
) -> list[dict[str, Any]]:
    """Raw facts as dicts keyed by dimension name and counter name."""
    sql, params = facts_sql(start=start, end=end, dims=dims, filters=filters, tz=tz)
    names = [*dims, *ROLLUP_COUNTERS, *ROLLUP_AMOUNTS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [_normalise(dict(zip(names, row, strict=True)), tz) for row in rows]


def money_exact(value: Any) -> Decimal:
    """A summed amount as a Decimal with the stored six places (exact: sums add no places)."""
    return Decimal(str(value if value is not None else 0)).quantize(Decimal(1).scaleb(-MONEY_PLACES))


def _aware(value: datetime | str, tz: tzinfo) -> datetime:
    # Trunc results come back as naive wall time (PostgreSQL: timestamp; SQLite: text), as
    # Django's own TruncBase.convert_value expects.
    if isinstance(value, str):
        parsed = parse_datetime(value)
        assert parsed is not None, value
        value = parsed
    if timezone.is_aware(value):
        return value.astimezone(tz)
    return timezone.make_aware(value, tz)


def _normalise(row: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    for amount in ROLLUP_AMOUNTS:
        row[amount] = money_exact(row[amount])
    for counter in ROLLUP_COUNTERS:
        row[counter] = int(row[counter] or 0)
    if isinstance(row.get("day"), str):
        row["day"] = date.fromisoformat(row["day"][:10])
    if row.get("hour_utc") is not None:
        row["hour_utc"] = _aware(row["hour_utc"], UTC)
    if row.get("hour") is not None:
        row["hour"] = _aware(row["hour"], tz)
    return row
