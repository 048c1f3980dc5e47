"""Reports: the one read path used by the API, the portals and the benchmark.

``report_rows`` picks the cheapest source that answers exactly:
- ``daily`` rollups when local days are UTC days and no hour is asked;
- ``hourly`` rollups for any time zone whose offset is a whole number of hours over the range
  (local days and hours are unions of UTC hours, DST included);
- ``raw`` events for sub2-sub5 and for zones offset by half or quarter hours (India, Nepal,
  Newfoundland, parts of Australia), where a local day boundary cuts a UTC hour in two: the
  rollups cannot be split, so those reports are computed from raw events, limited to 31 days.
Money is never summed across currencies: the offer's currency is an implicit dimension, so
rows and totals come one per currency (a single row for a single-currency network).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal

from django.db.models import F, Model, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from rest_framework import status

from affiliates.models import Goal, Offer, Publisher
from affiliates.offer_targets import OfferTarget
from affiliates.roles import Actor, managed_ids
from payouts.reports import metrics as m
from payouts.reports.customers.selectors import customer_value, offer_advertisers
from payouts.reports.dimensions import (
    ReportError,
    ReportQuery,
    local_midnight_utc,
    parse_query,
    tz_is_whole_hour,
)
from payouts.reports.facts import MANAGED, fetch_facts, money_exact
from tracking.models.reports import (
    ROLLUP_AMOUNTS,
    ROLLUP_COUNTERS,
    DailyGeoStat,
    DailyOfferStat,
    DailyStat,
    HourlyGeoStat,
    HourlyOfferStat,
    HourlyStat,
    ReportState,
)

Source = Literal["daily", "hourly", "raw"]
ROLLUP_COLUMN = {
    "advertiser": "advertiser_id",
    "offer": "offer_id",
    "publisher": "publisher_id",
    "goal": "goal_id",
}
VISITOR_DIMENSIONS = frozenset({"country", "device", "sub1"})
# What the geo cubes can answer: besides time, only these (advertiser scope included).
GEO_DIMENSIONS = frozenset({"day", "hour", "advertiser", "country", "device"})
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 100_000


@dataclass(frozen=True)
class Report:
    query: ReportQuery
    source: Source
    dimensions: tuple[str, ...]  # group-by columns, plus their labels, plus currency
    metrics: tuple[str, ...]
    rows: list[dict[str, Any]]
    totals: list[dict[str, Any]]  # one per currency
    truncated: bool
    as_of: datetime  # the moment the answer covers events up to (UTC)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.dimensions, *self.metrics)


def _scope(actor: Actor, filters: Mapping[str, tuple[str | int, ...]]) -> dict[str, tuple[str | int, ...]]:
    """Add the actor's tenant to the filters. Staff see everything; account managers the rows
    of their advertisers OR their publishers (``MANAGED``: one condition, not two filters)."""
    scoped = dict(filters)
    if actor.is_account_manager:
        advertisers, publishers = managed_ids(actor)
        return scoped | {MANAGED[0]: advertisers, MANAGED[1]: publishers}
    if actor.is_staff:
        return scoped
    if actor.is_advertiser and actor.advertiser_id is not None:
        scoped["advertiser"] = tuple(
            v for v in scoped.get("advertiser", (actor.advertiser_id,)) if v == actor.advertiser_id
        )
        return scoped
    if actor.is_publisher and actor.publisher_id is not None:
        scoped["publisher"] = tuple(
            v for v in scoped.get("publisher", (actor.publisher_id,)) if v == actor.publisher_id
        )
        return scoped
    raise ReportError(
        "Reports need a staff, advertiser or publisher account.",
        code="forbidden",
        status_code=status.HTTP_403_FORBIDDEN,
    )


def _cube(query: ReportQuery, filters: Mapping[str, Any]) -> tuple[Source, type[Model], type[Model]]:
    """The smallest rollups (hourly, daily) that have every dimension the report uses."""
    hourly: type[Model]
    daily: type[Model]
    used = set(query.group_by) | set(filters)
    if MANAGED[0] in used:  # an account manager's rows need both columns: not the geo cubes'
        used = (used - set(MANAGED)) | {"advertiser", "publisher"}
    if used & VISITOR_DIMENSIONS and used <= GEO_DIMENSIONS:
        hourly, daily = HourlyGeoStat, DailyGeoStat
    elif used & VISITOR_DIMENSIONS:
        hourly, daily = HourlyStat, DailyStat
    else:
        hourly, daily = HourlyOfferStat, DailyOfferStat
    return ("daily" if query.fits_daily else "hourly"), hourly, daily


def _pieces(query: ReportQuery) -> list[tuple[datetime, datetime, bool]]:
    """[start, end) UTC pieces and whether each is whole UTC days.

    A report that is not grouped by day or hour only needs totals over its range: the whole
    UTC days inside it come from the daily cube and the few edge hours (a local midnight in a
    shifted zone) from the hourly one, so a 30-day Berlin report reads 30 daily rows per key
    and 2 hourly ones, instead of 720 hourly ones.
    """
    start, end = query.utc_start, query.utc_end
    if query.fits_daily:
        return [(start, end, True)]
    if {"day", "hour"} & set(query.group_by):
        return [(start, end, False)]
    first = local_midnight_utc(start.date() + timedelta(days=1), UTC) if start.hour else start
    last = local_midnight_utc(end.date(), UTC)
    if last <= first:
        return [(start, end, False)]
    return [p for p in [(start, first, False), (first, last, True), (last, end, False)] if p[0] < p[1]]


def _cube_rows(
    query: ReportQuery,
    filters: Mapping[str, tuple[str | int, ...]],
    model: type[Model],
    start: datetime,
    end: datetime,
    daily: bool,
) -> list[dict[str, Any]]:
    qs: QuerySet[Any] = model._default_manager.all()
    if daily:
        qs = qs.filter(day__gte=start.date(), day__lt=end.date())
    else:
        qs = qs.filter(hour__gte=start, hour__lt=end)
    if MANAGED[0] in filters:
        qs = qs.filter(Q(advertiser_id__in=filters[MANAGED[0]]) | Q(publisher_id__in=filters[MANAGED[1]]))
    for name, values in filters.items():
        if name in MANAGED:
            continue
        column = ROLLUP_COLUMN.get(name, name)
        condition = Q(**{f"{column}__in": values})
        if name == "goal":  # click and impression rows have no goal; a goal filter narrows conversions only
            condition |= Q(goal_id__isnull=True)
        qs = qs.filter(condition)
    dims: dict[str, Any] = {}
    for name in (*query.group_by, "currency"):
        if name == "day":
            dims["k_day"] = F("day") if daily else TruncDate("hour", tzinfo=query.tz)
        else:
            dims[f"k_{name}"] = F(ROLLUP_COLUMN.get(name, name))
    sums = {f"s_{name}": Sum(name) for name in (*ROLLUP_COUNTERS, *ROLLUP_AMOUNTS)}
    rows = qs.annotate(**dims).values(*dims).annotate(**sums).order_by()
    return [
        {
            **{k[2:]: v for k, v in row.items() if k.startswith("k_")},
            **{name: row[f"s_{name}"] or 0 for name in ROLLUP_COUNTERS},
            **{name: money_exact(row[f"s_{name}"]) for name in ROLLUP_AMOUNTS},
        }
        for row in rows
    ]


def _watermark() -> datetime | None:
    """Up to when the rollups hold every event (the refresh's watermark); None before the first
    refresh."""
    return ReportState.objects.filter(key=ReportState.ROLLUPS).values_list("rolled_up_to", flat=True).first()


def _rollup_rows(
    query: ReportQuery, filters: Mapping[str, tuple[str | int, ...]], *, now: datetime
) -> tuple[Source, list[dict[str, Any]]]:
    """The rollups up to their watermark, plus raw events from the watermark to ``now``.

    The rollups lag the traffic by REPORTS_TRAFFIC_LAG_SECONDS and the refresh interval; the
    tail after the watermark is read raw (a minute or two of events, on indexed times), so a
    click or conversion shows in the next report answer, not after the next refresh.
    """
    source, hourly, daily = _cube(query, filters)
    keys = (*query.group_by, "currency")
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}

    def add(row: dict[str, Any]) -> None:
        key = tuple(row[k] for k in keys)
        if key in merged:
            for name in (*ROLLUP_COUNTERS, *ROLLUP_AMOUNTS):
                merged[key][name] += row[name]
        else:
            merged[key] = row

    # Before the first refresh (rollups built by a rebuild only) the rollups are all there is.
    mark = _watermark() or query.utc_end
    rolled_end = min(query.utc_end, mark)
    for start, end, whole_days in _pieces(query):
        if start >= mark:
            continue
        if end > mark:  # the watermark cuts this piece: whole days before its day, hours after
            if whole_days:
                midnight = mark.replace(hour=0, minute=0, second=0, microsecond=0)
                if start < midnight:
                    for row in _cube_rows(query, filters, daily, start, midnight, True):
                        add(row)
                start = max(start, midnight)
            # Hourly rows before the watermark hold exactly its events (the refresh adds [since, upto)).
            whole_days, end = False, mark
        for row in _cube_rows(query, filters, daily if whole_days else hourly, start, end, whole_days):
            add(row)
    tail_end = min(query.utc_end, now)
    if rolled_end < tail_end:
        for row in _raw_rows(query, filters, start=max(rolled_end, query.utc_start), end=tail_end):
            add(row)
    return source, list(merged.values())


def _raw_rows(
    query: ReportQuery,
    filters: Mapping[str, tuple[str | int, ...]],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    # Whole-hour zones group hours by UTC hour, like the rollups (a DST fall-back hour stays
    # two rows); other zones need the local hour, which cuts UTC hours.
    by_utc_hour = "hour" in query.group_by and tz_is_whole_hour(query.tz, query.utc_start, query.utc_end)
    dims = ["hour_utc" if (d == "hour" and by_utc_hour) else d for d in (*query.group_by, "currency")]
    rows = fetch_facts(
        start=start or query.utc_start, end=end or query.utc_end, dims=dims, filters=filters, tz=query.tz
    )
    if by_utc_hour:
        for row in rows:
            row["hour"] = row.pop("hour_utc")
    return rows


def _targets(
    query: ReportQuery, rows: Sequence[Mapping[str, Any]], filters: Mapping[str, Any]
) -> dict[int, Decimal]:
    offer_ids = {row["offer"] for row in rows if row.get("offer")} or set(filters.get("offer", ()))
    return {
        t.offer_id: m.target_for_range(t.conversions, t.period, query.days)
        for t in OfferTarget.objects.filter(offer_id__in=offer_ids)
    }


def _row_offer(row: Mapping[str, Any], query: ReportQuery, filters: Mapping[str, Any]) -> int | None:
    if "offer" in query.group_by:
        return row.get("offer")
    offers = filters.get("offer", ())
    return offers[0] if len(offers) == 1 else None


def _labels(actor: Actor, rows: list[dict[str, Any]], group_by: Sequence[str]) -> tuple[str, ...]:
    """Add names beside ids. Advertisers see publisher ids only, as on other networks."""
    added: list[str] = []
    if "offer" in group_by:
        names = dict(Offer.objects.filter(id__in={r["offer"] for r in rows}).values_list("id", "name"))
        for r in rows:
            r["offer_name"] = names.get(r["offer"], "")
        added.append("offer_name")
    if "publisher" in group_by and not actor.is_advertiser:
        names = dict(
            Publisher.objects.filter(id__in={r["publisher"] for r in rows}).values_list("id", "name")
        )
        for r in rows:
            r["publisher_name"] = names.get(r["publisher"], "")
        added.append("publisher_name")
    if "goal" in group_by:
        codes = dict(
            Goal.objects.filter(id__in={r["goal"] for r in rows if r["goal"]}).values_list("id", "code")
        )
        for r in rows:
            r["goal_code"] = codes.get(r["goal"], "") if r["goal"] else ""
        added.append("goal_code")
    return tuple(added)


def _localise(rows: list[dict[str, Any]], tz: tzinfo) -> None:
    for row in rows:
        hour = row.get("hour")
        if isinstance(hour, datetime):
            row["hour"] = hour.astimezone(tz)
        day = row.get("day")
        if isinstance(day, datetime):
            row["day"] = day.date()


TEXT_COLUMNS = frozenset({"country", "device", "currency", "offer_name", "publisher_name", "goal_code"})


def _sort_value(row: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    """Sort key that puts None last and compares text as text."""
    value = row.get(name)
    if name in TEXT_COLUMNS or name.startswith("sub"):
        return (False, str(value or ""))
    return (value is None, value if value is not None else 0)


def _order(
    rows: list[dict[str, Any]], order_by: str | None, columns: Sequence[str], dims: Sequence[str]
) -> None:
    if order_by:
        name = order_by.lstrip("-")
        if name not in columns:
            raise ReportError(f"Cannot order by {name!r}.", code="bad_order")
        descending = order_by.startswith("-")
        rows.sort(key=lambda r: _sort_value(r, name), reverse=descending)
        if descending:  # None stays last either way
            rows.sort(key=lambda r: r.get(name) is None)
        return
    for name in reversed([*dims, "currency"]):
        rows.sort(key=lambda r, n=name: _sort_value(r, n))  # type: ignore[misc]


def report_rows(
    *,
    actor: Actor,
    start: date,
    end: date,
    tz: str | tzinfo = "UTC",
    group_by: str | Sequence[str] = ("day",),
    filters: Mapping[str, object] | None = None,
    order_by: str | None = None,
    limit: int | None = None,
    source: Literal["auto", "raw"] = "auto",
) -> Report:
    """The report for ``actor`` over local dates ``start``..``end`` (inclusive) in ``tz``.

    ``group_by``: any of day, hour, offer, publisher, goal, country, device, sub1-sub5.
    ``filters``: {name: value or values} for advertiser (staff), offer, publisher, goal,
    country, device, sub1-sub5. ``order_by``: a column, "-" for descending; default: by group.
    ``source="raw"`` forces raw events (the benchmark's baseline). Raises ReportError (400/403).
    Rows hold the group-by values (ids plus ``*_name``/``goal_code`` labels), ``currency`` and
    the metrics the actor may see; totals are the same metrics summed, one row per currency.
    """
    query = parse_query(start=start, end=end, tz=tz, group_by=group_by, filters=filters)
    if source == "raw" and query.days > 31:
        raise ReportError("Raw reports span at most 31 days.", code="range_too_long")
    scoped = _scope(actor, query.filters)
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    now = timezone.now()

    chosen: Source
    if any(not values for name, values in scoped.items() if name not in MANAGED) or (
        MANAGED[0] in scoped and not (scoped[MANAGED[0]] or scoped[MANAGED[1]])
    ):
        raw_rows: list[dict[str, Any]] = []
        chosen = "daily" if query.fits_daily else "hourly"
    elif source == "raw" or query.needs_raw:
        raw_rows, chosen = _raw_rows(query, scoped), "raw"
    else:
        chosen, raw_rows = _rollup_rows(query, scoped, now=now)
    _localise(raw_rows, query.tz)

    visible = m.metrics_for(actor)
    targets = _targets(query, raw_rows, scoped) if "effect_score" in visible else {}
    one_offer = len(scoped.get("offer", ())) == 1
    rows = []
    for raw in raw_rows:
        offer = _row_offer(raw, query, scoped)
        derived = m.derive(raw, targets.get(offer) if offer else None)
        if offer is None and not one_offer:
            derived["ctr"] = None  # over several offers, some of which may record no impressions
        rows.append(
            {**{d: raw[d] for d in (*query.group_by, "currency")}, **{k: derived[k] for k in visible}}
        )

    by_currency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for raw in raw_rows:
        by_currency[raw["currency"]].append(raw)
    totals = []
    for currency in sorted(by_currency):
        summed = m.sum_rows(by_currency[currency])
        single = scoped.get("offer", ())
        target = targets.get(single[0]) if len(single) == 1 else None  # type: ignore[arg-type]
        derived = m.derive(summed, target)
        if not one_offer:
            derived["ctr"] = None
        totals.append({"currency": currency, **{k: derived[k] for k in visible}})

    labels = _labels(actor, rows, query.group_by)
    dimensions = (*query.group_by, *labels, "currency")
    _order(rows, order_by, (*dimensions, *visible), query.group_by)
    return Report(
        query=query,
        source=chosen,
        dimensions=dimensions,
        metrics=visible,
        rows=rows[:limit],
        totals=totals,
        truncated=len(rows) > limit,
        as_of=min(now, query.utc_end),
    )


def effect_scores(
    *, actor: Actor, start: date, end: date, by: str = "publisher", offer: int | None = None, tz: str = "UTC"
) -> Report:
    """Effect score per offer, publisher or sub1 (within one offer, or across all offers by offer)."""
    if by not in ("offer", "publisher", "sub1"):
        raise ReportError("Effect scores are per offer, publisher or sub1.", code="bad_group_by")
    if actor.is_publisher:
        raise ReportError(
            "Effect scores are for advertisers and staff.",
            code="forbidden",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    group_by = ["offer"] if by == "offer" else ["offer", by]
    filters = {"offer": [offer]} if offer else None
    report = report_rows(
        actor=actor, start=start, end=end, tz=tz, group_by=group_by, filters=filters, order_by="-effect_score"
    )
    return _value_weighted(report) if by == "publisher" else report


def _value_weighted(report: Report) -> Report:
    """Where the offer's advertiser chose a value horizon (90 or 180 days), each publisher's
    effect score is multiplied by ``customer_value``: how many first orders' worth its customers
    brought over that horizon. Without customer data (or a horizon of 0) a score is unchanged
    and ``value_multiple`` is null."""
    advertisers = offer_advertisers(row["offer"] for row in report.rows)
    multiples: dict[tuple[int, int], Decimal] = {}
    for adv_id, horizon in set(advertisers.values()):
        if horizon:
            found = customer_value(
                advertiser_id=adv_id, horizon_days=horizon, start=report.query.start, end=report.query.end
            )
            multiples.update({(adv_id, pub): m for pub, m in found.items()})
    rows = []
    for row in report.rows:
        adv_id, _ = advertisers.get(row["offer"], (0, 0))
        multiple = multiples.get((adv_id, row["publisher"]))
        score = row.get("effect_score")
        if multiple is not None and score is not None:
            score = (score * multiple).quantize(m.PLACES)
        rows.append({**row, "effect_score": score, "value_multiple": multiple})
    rows.sort(key=lambda r: (r["effect_score"] is None, -(r["effect_score"] or 0)))
    return replace(report, rows=rows, metrics=(*report.metrics, "value_multiple"))
