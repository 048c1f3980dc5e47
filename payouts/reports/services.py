"""Report rollups: building them from raw events, keeping them fresh, and effect-score targets.

Idempotency. A window of UTC hours is rebuilt by deleting its rollup rows and inserting the
re-aggregation of raw events, in one transaction holding a per-day lock; re-running it over a
closed or an open hour writes the same rows, and the unique key of the rollup tables makes a
duplicate impossible even if two builders raced. The coarse hourly cubes (offer, geo) are
re-summed from the hourly rows, and every daily table from its hourly one, for every day touched, in the same
transaction. The hourly source cube, whose key the full rollups lack, is re-summed with
HourlyStat from one grouping of the raw events by both their keys (``_hourly_insert``).

Freshness, each refresh (every REPORTS_ROLLUP_INTERVAL_SECONDS, by Celery beat), in one
transaction holding the watermark row, so two refreshes never add the same events twice:
1. the watermark ``rolled_up_to`` is an exact instant: the rollups hold every event before it
   and none after. The pass moves it to now - REPORTS_TRAFFIC_LAG_SECONDS (clicks reach the
   database from the stream a moment after their time) and *adds* the events in between to the
   rollup rows (an upsert per key): the cost follows the new events, not the hour or day so far,
   and a pass with nothing new writes nothing but the watermark;
2. an hour is checked once more when the watermark passes its end by REPORTS_LATE_CHECK_SECONDS:
   if its raw counts differ from its rollup, an event arrived after the watermark passed it
   (a consumer backlog) and the hour is rebuilt;
3. the dirty hours marked by the conversion/commission triggers (status changes, reversals,
   adjusted or late commissions, late conversions at any age) are rebuilt up to the watermark;
4. once a day, the two previous UTC days are rebuilt (clicks from a longer backlog).
A first pass, or one after a gap of more than an hour, rebuilds instead of adding: from
REPORTS_LATE_HOURS before the watermark, or from the old watermark.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Model, Sum
from django.utils import timezone

from affiliates.core.db import db_advisory_lock
from payouts.reports.facts import facts_sql, fetch_facts
from tracking.models import Click, Conversion, Impression
from tracking.models.reports import (
    ROLLUP_AMOUNTS,
    ROLLUP_COUNTERS,
    DailyGeoStat,
    DailyOfferStat,
    DailyStat,
    HourlyGeoStat,
    HourlyOfferStat,
    HourlySourceStat,
    HourlyStat,
    ReportDirtyHour,
    ReportState,
)

ROLLUP_DIMS = (
    "hour_utc",
    "advertiser",
    "offer",
    "publisher",
    "goal",
    "currency",
    "country",
    "device",
    "sub1",
)
OFFER_KEY_COLUMNS = ("advertiser_id", "offer_id", "publisher_id", "goal_id", "currency")
KEY_COLUMNS = (*OFFER_KEY_COLUMNS, "country", "device", "sub1")
GEO_KEY_COLUMNS = ("advertiser_id", "currency", "country", "device")
# The source cube (automation rules on a traffic source): the offer key plus the source. The
# full rollups do not carry source, so it is grouped from the raw events themselves, in the same
# read as HourlyStat (the refresh's fetch of new events; a rebuild's grouping by both keys).
SOURCE_KEY_COLUMNS = (*OFFER_KEY_COLUMNS, "source")
SOURCE_DIMS = ("hour_utc", "advertiser", "offer", "publisher", "goal", "currency", "source")
# What the refresh fetches of new events: every rollup's key.
ADD_DIMS = (*ROLLUP_DIMS, "source")
# (cube, the rows it is re-summed from, its key): hourly cubes from HourlyStat, daily from hourly.
HOURLY_CUBES: tuple[tuple[type[Model], tuple[str, ...]], ...] = (
    (HourlyOfferStat, OFFER_KEY_COLUMNS),
    (HourlyGeoStat, GEO_KEY_COLUMNS),
)
DAILY_CUBES: tuple[tuple[type[Model], type[Model], tuple[str, ...]], ...] = (
    (DailyStat, HourlyStat, KEY_COLUMNS),
    (DailyOfferStat, HourlyOfferStat, OFFER_KEY_COLUMNS),
    (DailyGeoStat, HourlyGeoStat, GEO_KEY_COLUMNS),
)
METRIC_COLUMNS = (*ROLLUP_COUNTERS, *ROLLUP_AMOUNTS)
STATE_KEY = ReportState.ROLLUPS
DIRTY_BATCH = 5000
_LOCK_NAMESPACE = 5_210_424  # pg_advisory_xact_lock(namespace, day ordinal)


@dataclass(frozen=True)
class RefreshResult:
    hours_rebuilt: int
    dirty_marks_cleared: int
    settled_day: date | None
    rows_added: int = 0  # rollup keys the pass added new events to (step 1 of the module doc)
    rolled_up_to: datetime | None = None


def floor_hour(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _lock_day(day: date) -> None:
    """Serialise builders of one UTC day. SQLite's IMMEDIATE transactions already serialise writers."""
    db_advisory_lock(keys=(_LOCK_NAMESPACE, day.toordinal()))


FINE_TABLE = "rollup_fine_facts"  # a temporary table of one rebuild: the session's own


def _hourly_insert(start: datetime, end: datetime) -> None:
    """HourlyStat and the source cube of [start, end), from one read of the raw events.

    The events are grouped once by every key either table has (the full key plus source) into a
    temporary table, which each table then re-sums by its own key: the raw read, the costly
    part (five sources, with joins), is not repeated for the source cube.
    """
    select, params = facts_sql(start=start, end=end, dims=ADD_DIMS)
    sums = ", ".join(f"SUM(m_{m})" for m in METRIC_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {FINE_TABLE} AS {select}", params)
        for target, dims, keys in (
            (HourlyStat, ROLLUP_DIMS, KEY_COLUMNS),
            (HourlySourceStat, SOURCE_DIMS, SOURCE_KEY_COLUMNS),
        ):
            group = ", ".join(f"dim_{d}" for d in dims)
            columns = ", ".join(("hour", *keys, *METRIC_COLUMNS))
            cursor.execute(
                f"INSERT INTO {target._meta.db_table} ({columns}) "  # noqa: S608
                f"SELECT {group}, {sums} FROM {FINE_TABLE} GROUP BY {group}"
            )
        cursor.execute(f"DROP TABLE {FINE_TABLE}")


def _resum(
    target: type[Model],
    source: type[Model],
    keys: tuple[str, ...],
    start: datetime,
    end: datetime,
    day: date | None,
) -> None:
    """Re-sum ``source`` rows of [start, end) into ``target``: per hour, or into one ``day``."""
    key_list = ", ".join(keys)
    sums = ", ".join(f"SUM({m})" for m in METRIC_COLUMNS)
    ops = connection.ops  # adapt like the ORM does, so SQLite compares the same text format
    range_params = [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
    if day is None:
        time_col, time_expr, group, params = "hour", "hour", f"hour, {key_list}", range_params
    else:
        time_col, time_expr, group, params = (
            "day",
            "%s",
            key_list,
            [ops.adapt_datefield_value(day), *range_params],
        )
    sql = (
        f"INSERT INTO {target._meta.db_table} ({time_col}, {key_list}, {', '.join(METRIC_COLUMNS)}) "  # noqa: S608
        f"SELECT {time_expr}, {key_list}, {sums} FROM {source._meta.db_table} "
        f"WHERE hour >= %s AND hour < %s GROUP BY {group}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _rebuild_day_part(start: datetime, end: datetime) -> None:
    """Re-aggregate [start, end), which lies within one UTC day, and re-sum that day."""
    day = start.date()
    with transaction.atomic():
        _lock_day(day)
        HourlyStat.objects.filter(hour__gte=start, hour__lt=end).delete()
        HourlySourceStat.objects.filter(hour__gte=start, hour__lt=end).delete()
        _hourly_insert(start, end)
        for cube, keys in HOURLY_CUBES:
            cube._default_manager.filter(hour__gte=start, hour__lt=end).delete()
            _resum(cube, HourlyStat, keys, start, end, None)
        day_start = _day_start(day)
        day_end = day_start + timedelta(days=1)
        for daily, source, daily_keys in DAILY_CUBES:
            daily._default_manager.filter(day=day).delete()
            _resum(daily, source, daily_keys, day_start, day_end, day)


def rollup_rebuild(*, start: datetime, end: datetime) -> int:
    """Re-aggregate the UTC hours from ``start``'s hour to ``end`` from raw events; a mid-hour
    ``end`` is exact (that hour counts the events before it). Returns hours rebuilt.

    Callers that run beside the refresh keep ``end`` at or below the watermark (see
    ``rollups_rebuild_all``): events after it are the refresh's to add, and would count twice.
    """
    cursor = floor_hour(start)
    hours = 0
    while cursor < end:
        part_end = min(end, _day_start(cursor.date() + timedelta(days=1)))
        _rebuild_day_part(cursor, part_end)
        hours += math.ceil((part_end - cursor) / timedelta(hours=1))
        cursor = part_end
    return hours


def _sum_by(
    rows: Sequence[Mapping[str, object]], keys: tuple[str, ...]
) -> dict[tuple[object, ...], list[object]]:
    """Rows summed per ``keys``: the delta of a coarser cube, computed from the hourly delta."""
    sums: dict[tuple[object, ...], list[object]] = {}
    for row in rows:
        values = [row[m] for m in METRIC_COLUMNS]
        key = tuple(row[k] for k in keys)
        if key in sums:
            sums[key] = [a + b for a, b in zip(sums[key], values, strict=True)]  # type: ignore[operator]
        else:
            sums[key] = values
    return sums


def _upsert_add(
    target: type[Model], time_col: str, keys: tuple[str, ...], sums: dict[tuple[object, ...], list[object]]
) -> None:
    """Add ``sums`` (time, *keys) -> metrics to ``target``'s rows, creating missing ones.

    The conflict target is the table's unique key: its expression ``COALESCE(goal_id, 0)``
    included, and without advertiser_id where the offer already determines it.
    """
    table = target._meta.db_table
    columns = (time_col, *keys, *METRIC_COLUMNS)
    unique = keys if "goal_id" not in keys else tuple(k for k in keys if k != "advertiser_id")
    conflict = ", ".join((time_col, *("(COALESCE(goal_id, 0))" if k == "goal_id" else k for k in unique)))
    adds = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in METRIC_COLUMNS)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "  # noqa: S608
        f"ON CONFLICT ({conflict}) DO UPDATE SET {adds}"
    )
    ops = connection.ops
    adapt = ops.adapt_datefield_value if time_col == "day" else ops.adapt_datetimefield_value
    params: list[tuple[Any, ...]] = [
        (adapt(key[0]), *key[1:], *values)  # type: ignore[arg-type]
        for key, values in sums.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _rollups_add(*, start: datetime, end: datetime) -> int:
    """Add the events of [start, end) to every rollup table; the caller holds the watermark.

    Each key's sums are added to its row (an upsert), so the cost is the new events' and the
    rows they touch, not the hour's or the day's so far. Returns the hourly keys touched.
    """
    facts = fetch_facts(start=start, end=end, dims=ADD_DIMS)
    if not facts:
        return 0
    columns = ("hour", *KEY_COLUMNS, "source")
    rows: list[dict[str, object]] = []
    for fact in facts:
        row: dict[str, object] = {c: fact[d] for c, d in zip(columns, ADD_DIMS, strict=True)}
        row["day"] = fact["hour_utc"].date()
        row.update((m, fact[m]) for m in METRIC_COLUMNS)
        rows.append(row)
    for day in sorted({row["day"] for row in rows}):  # type: ignore[type-var]
        _lock_day(day)  # type: ignore[arg-type]
    hourly = _sum_by(rows, ("hour", *KEY_COLUMNS))  # the fetch's extra source column summed away
    _upsert_add(HourlyStat, "hour", KEY_COLUMNS, hourly)
    for cube, keys in HOURLY_CUBES:
        _upsert_add(cube, "hour", keys, _sum_by(rows, ("hour", *keys)))
    _upsert_add(HourlySourceStat, "hour", SOURCE_KEY_COLUMNS, _sum_by(rows, ("hour", *SOURCE_KEY_COLUMNS)))
    for daily, _, keys in DAILY_CUBES:
        _upsert_add(daily, "day", keys, _sum_by(rows, ("day", *keys)))
    return len(hourly)


def _hour_is_complete(hour: datetime) -> bool:
    """Whether the rollup of ``hour`` counts every click, impression and conversion stored for it.

    Events are only appended (changes to conversions mark their hour dirty), so equal counts
    mean nothing arrived after the watermark passed the hour.
    """
    window = {"created_at__gte": hour, "created_at__lt": hour + timedelta(hours=1)}
    raw = (
        Click.objects.filter(**window).aggregate(n=Count("pk"))["n"],
        Impression.objects.filter(**window).aggregate(n=Count("pk"))["n"],
        Conversion.objects.filter(offer__isnull=False, publisher__isnull=False, **window).aggregate(
            n=Count("pk")
        )["n"],
    )
    rolled = HourlyStat.objects.filter(hour=hour).aggregate(
        clicks=Sum("gross_clicks"),
        impressions=Sum("impressions"),
        conversions=Sum("conv_pending") + Sum("conv_approved") + Sum("conv_rejected") + Sum("conv_reversed"),
    )
    return raw == tuple(rolled[k] or 0 for k in ("clicks", "impressions", "conversions"))


def _late_hours_recheck(*, since: datetime, upto: datetime) -> int:
    """Rebuild the hours whose end plus REPORTS_LATE_CHECK_SECONDS the watermark passed in this
    move from ``since`` to ``upto`` and whose raw counts changed since. Returns hours rebuilt."""
    settle = timedelta(hours=1, seconds=settings.REPORTS_LATE_CHECK_SECONDS)
    hour = floor_hour(since - settle) + timedelta(hours=1)
    rebuilt = 0
    while hour + settle <= upto:
        if not _hour_is_complete(hour):
            rebuilt += rollup_rebuild(start=hour, end=hour + timedelta(hours=1))
        hour += timedelta(hours=1)
    return rebuilt


def _runs(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Contiguous runs of hours, so adjacent dirty hours are rebuilt in one statement."""
    runs: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        if runs and runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], hour + timedelta(hours=1))
        else:
            runs.append((hour, hour + timedelta(hours=1)))
    return runs


def _state_locked() -> ReportState:
    """The watermark row, locked until the caller's transaction ends: refreshes and backfills
    run one at a time, so none adds events another already added."""
    ReportState.objects.get_or_create(key=STATE_KEY)
    return ReportState.objects.select_for_update().get(key=STATE_KEY)


def rollups_refresh(*, now: datetime | None = None) -> RefreshResult:
    """One incremental pass (see the module doc); safe to run concurrently with itself."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _state_locked()
        since = state.rolled_up_to
        upto = now - timedelta(seconds=settings.REPORTS_TRAFFIC_LAG_SECONDS)
        if since is not None:
            upto = max(upto, since)
        hours_rebuilt = rows_added = 0
        if since is None or upto - since > timedelta(hours=1):
            # A first pass, or one after a long gap: one set-based rebuild beats a big delta.
            start = since or floor_hour(upto) - timedelta(hours=settings.REPORTS_LATE_HOURS)
            hours_rebuilt += rollup_rebuild(start=start, end=upto)
        elif upto > since:
            rows_added = _rollups_add(start=since, end=upto)
        if since is not None:
            hours_rebuilt += _late_hours_recheck(since=since, upto=upto)

        settled_day = None
        today = upto.date()
        if state.settled_through is None or state.settled_through < today - timedelta(days=1):
            hours_rebuilt += rollup_rebuild(
                start=_day_start(today - timedelta(days=2)), end=_day_start(today)
            )
            settled_day = today - timedelta(days=1)

        claimed = list(ReportDirtyHour.objects.order_by("id").values_list("id", "hour")[:DIRTY_BATCH])
        for run_start, run_end in _runs(floor_hour(h) for _, h in claimed):
            if run_start < upto:  # a later hour is still the watermark's to add
                hours_rebuilt += rollup_rebuild(start=run_start, end=min(run_end, upto))
        cleared, _ = ReportDirtyHour.objects.filter(id__in=[pk for pk, _ in claimed]).delete()

        ReportState.objects.filter(pk=state.pk).update(
            rolled_up_to=upto, settled_through=settled_day or state.settled_through, updated_at=now
        )
    return RefreshResult(
        hours_rebuilt=hours_rebuilt,
        dirty_marks_cleared=cleared,
        settled_day=settled_day,
        rows_added=rows_added,
        rolled_up_to=upto,
    )


def rollups_rebuild_all(*, start: datetime, end: datetime) -> int:
    """Rebuild a range and clear the dirty marks it covered (the management command's backfill).

    The range stops at the watermark (or, before the first refresh, at now less the traffic lag,
    where that refresh starts): later events are the refresh's to add. Only marks that existed
    before the rebuild began are cleared: a later one may describe a change the rebuild did not see.
    """
    with transaction.atomic():
        state = _state_locked()
        lag = timedelta(seconds=settings.REPORTS_TRAFFIC_LAG_SECONDS)
        end = min(end, state.rolled_up_to or timezone.now() - lag)
        marks = ReportDirtyHour.objects.filter(hour__gte=floor_hour(start), hour__lt=end)
        claimed = list(marks.values_list("id", flat=True))
        hours = rollup_rebuild(start=start, end=end)
        ReportDirtyHour.objects.filter(id__in=claimed).delete()
    return hours
