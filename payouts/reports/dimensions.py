"""What a report may be asked for: dimensions, filters, date ranges and time zones.

Parsing lives here so the API, the portals and the benchmark validate the same way, and every
refusal is a ``ReportError`` with a machine-readable code (a 400, never a 500).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rest_framework import status

from affiliates.core.errors import DomainError

TIME_DIMENSIONS = ("day", "hour")
ENTITY_DIMENSIONS = ("offer", "publisher", "goal")
TEXT_DIMENSIONS = ("country", "device", "sub1", "sub2", "sub3", "sub4", "sub5")
DIMENSIONS = (*TIME_DIMENSIONS, *ENTITY_DIMENSIONS, *TEXT_DIMENSIONS)
# Filterable: every non-time dimension, plus the advertiser (staff only; others are scoped).
FILTERS = ("advertiser", *ENTITY_DIMENSIONS, *TEXT_DIMENSIONS)
INTEGER_FILTERS = frozenset({"advertiser", "offer", "publisher", "goal"})
# Dimensions only raw events carry: reports using them read raw data in a bounded range.
RAW_ONLY = frozenset({"sub2", "sub3", "sub4", "sub5"})

MAX_ROLLUP_DAYS = 400
MAX_RAW_DAYS = 31
MAX_FILTER_VALUES = 200
MAX_ID_DIGITS = 18


class ReportError(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST


@dataclass(frozen=True)
class ReportQuery:
    """A validated report request. ``start``/``end`` are local dates, ``end`` inclusive."""

    start: date
    end: date
    tz: ZoneInfo
    group_by: tuple[str, ...]
    filters: Mapping[str, tuple[str | int, ...]] = field(default_factory=dict)

    @property
    def utc_start(self) -> datetime:
        return local_midnight_utc(self.start, self.tz)

    @property
    def utc_end(self) -> datetime:
        """Exclusive."""
        return local_midnight_utc(self.end + timedelta(days=1), self.tz)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def needs_raw(self) -> bool:
        used = set(self.group_by) | set(self.filters)
        return bool(used & RAW_ONLY) or not tz_is_whole_hour(self.tz, self.utc_start, self.utc_end)

    @property
    def fits_daily(self) -> bool:
        """Daily rows are UTC days: usable when local days are UTC days and no hour is asked."""
        return "hour" not in self.group_by and tz_is_utc(self.tz, self.utc_start, self.utc_end)


def local_midnight_utc(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _offsets(tz: tzinfo, start: datetime, end: datetime) -> Iterable[timedelta | None]:
    # Offsets change at most a few times a year and never for less than hours, so sampling
    # every six hours (plus both ends) sees every offset in force within the range.
    at = start
    while at < end:
        yield at.astimezone(tz).utcoffset()
        at += timedelta(hours=6)
    yield (end - timedelta(microseconds=1)).astimezone(tz).utcoffset()


def tz_is_whole_hour(tz: tzinfo, start: datetime, end: datetime) -> bool:
    return all(o is not None and o.total_seconds() % 3600 == 0 for o in _offsets(tz, start, end))


def tz_is_utc(tz: tzinfo, start: datetime, end: datetime) -> bool:
    return all(o == timedelta(0) for o in _offsets(tz, start, end))


def parse_tz(raw: str | tzinfo | None) -> ZoneInfo:
    if isinstance(raw, ZoneInfo):
        return raw
    name = str(raw or "UTC").strip()
    if isinstance(raw, tzinfo) and raw is UTC:
        name = "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportError(f"Unknown time zone {name!r}; use an IANA name.", code="bad_timezone") from exc


def parse_group_by(raw: str | Sequence[str] | None) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw or ["day"])
    names = tuple(dict.fromkeys(i.strip() for i in items if i and i.strip()))
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise ReportError(
            f"Cannot group by {', '.join(unknown)}; choose from {', '.join(DIMENSIONS)}.", code="bad_group_by"
        )
    return names


def parse_filters(raw: Mapping[str, object] | None) -> dict[str, tuple[str | int, ...]]:
    """``{"offer": [1, 2], "country": "US,DE"}`` -> validated tuples. Unknown keys are refused."""
    out: dict[str, tuple[str | int, ...]] = {}
    for name, value in (raw or {}).items():
        if name not in FILTERS:
            raise ReportError(f"Unknown filter {name!r}.", code="bad_filter")
        values = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        cleaned = [str(v).strip() for v in values if str(v).strip() != "" or name in TEXT_DIMENSIONS]
        if not cleaned or len(cleaned) > MAX_FILTER_VALUES:
            raise ReportError(f"Filter {name!r} needs 1 to {MAX_FILTER_VALUES} values.", code="bad_filter")
        if name in INTEGER_FILTERS:
            # ASCII digits only ("²".isdigit() is true, int("²") a ValueError), within a bigint.
            if not all(v.isascii() and v.isdigit() and len(v) <= MAX_ID_DIGITS for v in cleaned):
                raise ReportError(f"Filter {name!r} takes numeric ids.", code="bad_filter")
            out[name] = tuple(int(v) for v in cleaned)
        else:
            out[name] = tuple(v[:255] for v in cleaned)
    return out


def parse_query(
    *,
    start: date,
    end: date,
    tz: str | tzinfo | None = "UTC",
    group_by: str | Sequence[str] | None = ("day",),
    filters: Mapping[str, object] | None = None,
) -> ReportQuery:
    if end < start:
        raise ReportError("The end date is before the start date.", code="bad_range")
    query = ReportQuery(
        start=start,
        end=end,
        tz=parse_tz(tz),
        group_by=parse_group_by(group_by),
        filters=parse_filters(filters),
    )
    if query.days > MAX_ROLLUP_DAYS:
        raise ReportError(f"Reports span at most {MAX_ROLLUP_DAYS} days.", code="range_too_long")
    if query.needs_raw and query.days > MAX_RAW_DAYS:
        raise ReportError(
            f"Reports on sub2-sub5, or in a time zone with a non-whole-hour offset, read raw events "
            f"and span at most {MAX_RAW_DAYS} days.",
            code="range_too_long",
        )
    return query
