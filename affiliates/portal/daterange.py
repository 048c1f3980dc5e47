"""The one date range of every dashboard and report: a preset or a custom range read from the
query string, its previous period of equal length, and the deltas between the two.

Every page reads its range through ``date_range_parse`` and shows it with the
``portal/_daterange.html`` include, so a link, a preset and an export mean the same days on
every page. Days are local to ``tz`` (UTC unless a report asks for another zone); ``start`` and
``end`` are the UTC instants they cover. A range that includes today ends now, not at midnight,
and so does its previous period (the same hours, whole days earlier): today against yesterday
compares like with like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date

from affiliates.core.errors import DomainError

PRESETS = {
    "today": "Today",
    "yesterday": "Yesterday",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "this_month": "This month",
    "last_month": "Last month",
    "custom": "Custom range",
}
#: The longest range a page answers (the rollups keep 400 days; a year and a day is plenty).
MAX_DAYS = 366
#: The parameters a range is read from; pages keep every other parameter when the range changes.
RANGE_PARAMS = ("range", "start", "end", "period", "compare", "page")


class RangeError(DomainError):
    code = "bad_range"


@dataclass(frozen=True)
class DateRange:
    preset: str  # a PRESETS key
    first: date  # the first local day, inclusive
    last: date  # the last local day, inclusive
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive: now when the range includes today
    tz: tzinfo = UTC

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        if self.first == self.last:
            return self.first.strftime("%b %d, %Y")
        return f"{self.first:%b %d} – {self.last:%b %d, %Y}"

    def previous(self) -> DateRange:
        """The same number of days just before, cut at the same time of day when this range
        ends before midnight (today so far against yesterday to the same hour)."""
        shift = timedelta(days=self.days)
        return DateRange(
            preset="custom",
            first=self.first - shift,
            last=self.last - shift,
            start=_midnight(self.first - shift, self.tz),
            end=self.end - shift,
            tz=self.tz,
        )

    def params(self) -> dict[str, str]:
        """The query-string parameters that ask for this range again."""
        if self.preset != "custom":
            return {"range": self.preset}
        return {"range": "custom", "start": self.first.isoformat(), "end": self.last.isoformat()}


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _preset_days(preset: str, today: date) -> tuple[date, date]:
    if preset == "today":
        return today, today
    if preset == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if preset == "30d":
        return today - timedelta(days=29), today
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    return today - timedelta(days=6), today  # 7d


def _day(raw: str, name: str) -> date:
    try:
        day = parse_date(raw.strip())
    except ValueError:
        day = None
    if day is None:
        raise RangeError(f"The {name} date must be a date like 2026-01-31.", code="bad_date")
    return day


def date_range_make(
    *, first: date, last: date, preset: str = "custom", now: datetime | None = None, tz: tzinfo = UTC
) -> DateRange:
    """The range of local days ``first``..``last``, bounded: not reversed, not in the future,
    at most MAX_DAYS long."""
    now = now or timezone.now()
    today = now.astimezone(tz).date()
    if last < first:
        raise RangeError("The end date is before the start date.", code="range_reversed")
    if first > today:
        raise RangeError("The range starts in the future.", code="range_in_future")
    last = min(last, today)
    if (last - first).days + 1 > MAX_DAYS:
        raise RangeError(f"A range spans at most {MAX_DAYS} days.", code="range_too_long")
    end = now if last == today else _midnight(last + timedelta(days=1), tz)
    return DateRange(preset=preset, first=first, last=last, start=_midnight(first, tz), end=end, tz=tz)


def date_range_parse(
    *, params: Mapping[str, str], now: datetime | None = None, tz: tzinfo = UTC, default: str = "7d"
) -> DateRange:
    """The range a query string asks for: ``range`` (a preset; the older ``period`` too), or
    ``start`` and ``end`` (ISO dates, ``range=custom`` or none). Nothing asked: ``default``.
    Raises RangeError (400, a ``code`` per problem) for anything else."""
    now = now or timezone.now()
    preset = (params.get("range") or params.get("period") or "").strip()
    start, end = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if preset in ("", "custom") and (start or end):
        if not (start and end):
            raise RangeError("A custom range needs both a start and an end date.", code="bad_date")
        return date_range_make(first=_day(start, "start"), last=_day(end, "end"), now=now, tz=tz)
    preset = preset or default
    if preset not in PRESETS or preset == "custom":
        raise RangeError(f"Unknown range {preset[:30]!r}; choose one of the presets.", code="bad_range")
    first, last = _preset_days(preset, now.astimezone(tz).date())
    return date_range_make(first=first, last=last, preset=preset, now=now, tz=tz)


def date_range_or_default(
    *, params: Mapping[str, str], now: datetime | None = None, tz: tzinfo = UTC, default: str = "7d"
) -> tuple[DateRange, RangeError | None]:
    """For a page: the range asked for, or the default range and the error to show."""
    try:
        return date_range_parse(params=params, now=now, tz=tz, default=default), None
    except RangeError as exc:
        return date_range_parse(params={}, now=now, tz=tz, default=default), exc


def compare_wanted(params: Mapping[str, str]) -> bool:
    """Comparison with the previous period is on unless the viewer turned it off (compare=0)."""
    return params.get("compare", "1") != "0"


@dataclass(frozen=True)
class Delta:
    """A value against the previous period's: the difference and the change in percent (None
    when the previous value is zero or either is unknown)."""

    current: Decimal | int | float | None
    previous: Decimal | int | float | None

    @property
    def diff(self) -> Decimal | None:
        if self.current is None or self.previous is None:
            return None
        return Decimal(str(self.current)) - Decimal(str(self.previous))

    @property
    def pct(self) -> Decimal | None:
        diff = self.diff
        if diff is None or not self.previous:
            return None
        return diff * 100 / abs(Decimal(str(self.previous)))

    @property
    def direction(self) -> str:
        diff = self.diff
        return "flat" if not diff else ("up" if diff > 0 else "down")


def _kept(get: Mapping[str, str]) -> list[tuple[str, str]]:
    """The page's other parameters (filters, sort, currency), each value of a repeated one."""
    lists = get.lists() if isinstance(get, QueryDict) else ((k, [v]) for k, v in get.items())
    return [(k, v) for k, values in lists if k not in RANGE_PARAMS and k != "format" for v in values]


def range_links(get: Mapping[str, str], chosen: DateRange) -> list[dict[str, str | bool]]:
    """The presets as links, keeping the page's other parameters."""
    keep = _kept(get)
    if get.get("compare") == "0":
        keep.append(("compare", "0"))
    return [
        {
            "key": key,
            "label": label,
            "url": "?" + urlencode([*keep, ("range", key)]),
            "on": key == chosen.preset,
        }
        for key, label in PRESETS.items()
        if key != "custom"
    ]


def date_range_context(
    get: Mapping[str, str], chosen: DateRange, error: RangeError | None = None
) -> dict[str, object]:
    """What ``portal/_daterange.html`` needs: the presets, the custom form (carrying the page's
    other parameters as hidden fields), the comparison switch and the error to show."""
    hidden = _kept(get)
    return {
        "range": chosen,
        "range_presets": range_links(get, chosen),
        "range_hidden": hidden,
        "range_error": error,
        "compare": compare_wanted(get),
        "range_query": urlencode([*hidden, *chosen.params().items()]),
    }
