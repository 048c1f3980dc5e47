"""Payout periods are calendar months in UTC, named ``YYYY-MM`` on the wire and stored as the
month's first day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from affiliates.core.errors import DomainError

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


def period_parse(raw: str | None) -> date:
    """``"2024-03"`` -> ``date(2024, 3, 1)``; anything else is a 400 ``bad_period``."""
    match = _PERIOD_RE.match((raw or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise DomainError("period must be YYYY-MM, e.g. 2024-03.", code="bad_period")
    return date(int(match.group(1)), int(match.group(2)), 1)


def period_label(period: date) -> str:
    return f"{period:%Y-%m}"


def period_next(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1)


def period_previous(period: date) -> date:
    return date(period.year - (period.month == 1), (period.month - 2) % 12 + 1, 1)


def period_start(period: date) -> datetime:
    return datetime(period.year, period.month, 1, tzinfo=UTC)


def period_end(period: date) -> datetime:
    """The first instant after the period (exclusive bound)."""
    return period_start(period_next(period))


def period_of(moment: datetime) -> date:
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)
