"""Report rollups: building them from raw events, keeping them fresh, and effect-score targets.

Idempotency. A window of UTC hours is rebuilt by deleting its rollup rows and inserting the
re-aggregation of raw events, in one transaction holding a per-day lock; re-running it over a
closed or an open hour writes the same rows, and the unique key of the rollup tables makes a
duplicate impossible even if two builders raced. The coarse hourly cubes (offer, geo) are
re-summed from the hourly rows, and every daily table from its hourly one, for every day touched, in the same
transaction.

Freshness, each refresh (every REPORTS_ROLLUP_INTERVAL_SECONDS, by Celery beat):
1. claim the dirty hours marked by the conversion/commission triggers (status changes,
   reversals, adjusted or late commissions, late conversions at any age);
2. rebuild the trailing REPORTS_LATE_HOURS hours (clicks and impressions still arriving from
   the stream), extended back to the watermark if refreshes were missed;
3. once a day, rebuild the two previous UTC days (clicks from a long stream backlog);
4. delete exactly the dirty marks claimed in 1, so a mark written meanwhile survives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from affiliates.core.db import db_advisory_lock
from affiliates.models import Offer
from payouts.reports.dimensions import ReportError
from payouts.reports.facts import facts_sql
from tracking.models.reports import (
    ROLLUP_AMOUNTS,
    ROLLUP_COUNTERS,
    DailyGeoStat,
    DailyOfferStat,
    DailyStat,
    HourlyGeoStat,
    HourlyOfferStat,
    HourlyStat,
    OfferTarget,
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
STATE_KEY = "rollups"
DIRTY_BATCH = 5000
_LOCK_NAMESPACE = 5_210_424  # pg_advisory_xact_lock(namespace, day ordinal)


@dataclass(frozen=True)
class RefreshResult:
    hours_rebuilt: int
    dirty_marks_cleared: int
    settled_day: date | None


def floor_hour(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(at: datetime) -> datetime:
    floored = floor_hour(at)
    return floored if floored == at.astimezone(UTC) else floored + timedelta(hours=1)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _lock_day(day: date) -> None:
    """Serialise builders of one UTC day. SQLite's IMMEDIATE transactions already serialise writers."""
    db_advisory_lock(keys=(_LOCK_NAMESPACE, day.toordinal()))


def _hourly_insert(start: datetime, end: datetime) -> None:
    select, params = facts_sql(start=start, end=end, dims=ROLLUP_DIMS)
    columns = ", ".join(("hour", *KEY_COLUMNS, *METRIC_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {HourlyStat._meta.db_table} ({columns}) {select}", params)


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
    """Re-aggregate every UTC hour touching [start, end) from raw events. Returns hours rebuilt."""
    cursor, stop = floor_hour(start), _ceil_hour(end)
    hours = 0
    while cursor < stop:
        part_end = min(stop, _day_start(cursor.date() + timedelta(days=1)))
        _rebuild_day_part(cursor, part_end)
        hours += int((part_end - cursor) / timedelta(hours=1))
        cursor = part_end
    return hours


def _runs(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Contiguous runs of hours, so adjacent dirty hours are rebuilt in one statement."""
    runs: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        if runs and runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], hour + timedelta(hours=1))
        else:
            runs.append((hour, hour + timedelta(hours=1)))
    return runs


def rollups_refresh(*, now: datetime | None = None) -> RefreshResult:
    """One incremental pass; safe to run concurrently with itself and with rebuilds."""
    now = now or timezone.now()
    current = floor_hour(now)
    state, _ = ReportState.objects.get_or_create(key=STATE_KEY)

    claimed = list(ReportDirtyHour.objects.order_by("id").values_list("id", "hour")[:DIRTY_BATCH])
    trailing_from = current - timedelta(hours=settings.REPORTS_LATE_HOURS)
    if state.rolled_up_to is not None:
        trailing_from = min(trailing_from, state.rolled_up_to)
    hours_rebuilt = rollup_rebuild(start=trailing_from, end=current + timedelta(hours=1))

    settled_day = None
    yesterday = current.date() - timedelta(days=1)
    if state.settled_through is None or state.settled_through < yesterday:
        hours_rebuilt += rollup_rebuild(start=_day_start(yesterday - timedelta(days=1)), end=trailing_from)
        settled_day = yesterday

    outside = [floor_hour(h) for _, h in claimed if not trailing_from <= h < current + timedelta(hours=1)]
    for run_start, run_end in _runs(outside):
        hours_rebuilt += rollup_rebuild(start=run_start, end=run_end)
    cleared, _ = ReportDirtyHour.objects.filter(id__in=[pk for pk, _ in claimed]).delete()

    ReportState.objects.filter(pk=state.pk).update(
        rolled_up_to=current, settled_through=settled_day or state.settled_through, updated_at=now
    )
    return RefreshResult(hours_rebuilt=hours_rebuilt, dirty_marks_cleared=cleared, settled_day=settled_day)


def rollups_rebuild_all(*, start: datetime, end: datetime) -> int:
    """Rebuild a range and clear the dirty marks it covered (the management command's backfill).

    Only marks that existed before the rebuild began are cleared: a later one may describe a
    change the rebuild did not see.
    """
    marks = ReportDirtyHour.objects.filter(hour__gte=floor_hour(start), hour__lt=_ceil_hour(end))
    claimed = list(marks.values_list("id", flat=True))
    hours = rollup_rebuild(start=start, end=end)
    ReportDirtyHour.objects.filter(id__in=claimed).delete()
    return hours


def offer_target_set(
    *, offer: Offer, conversions: int, period: str = OfferTarget.Period.MONTH, user: object | None = None
) -> OfferTarget:
    """Set (or replace) the advertiser's conversion target for an offer."""
    if period not in OfferTarget.Period.values:
        raise ReportError(f"Period must be one of {', '.join(OfferTarget.Period.values)}.", code="bad_period")
    if conversions <= 0:
        raise ReportError("The target must be at least one conversion.", code="bad_target")
    target, _ = OfferTarget.objects.update_or_create(
        offer=offer,
        defaults={
            "conversions": conversions,
            "period": period,
            "updated_by": user if getattr(user, "pk", None) else None,
            "updated_at": timezone.now(),
        },
    )
    return target


def offer_target_clear(*, offer: Offer) -> bool:
    deleted, _ = OfferTarget.objects.filter(offer=offer).delete()
    return bool(deleted)
