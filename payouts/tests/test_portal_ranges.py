"""The dashboards' and reports' shared date range (affiliates.portal.daterange), their previous
period, and totals in the viewer's reporting currency (payouts.reporting_money)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from affiliates.models import Publisher
from affiliates.portal.daterange import MAX_DAYS, Delta, RangeError, date_range_parse
from payouts.fx import RateInForce
from payouts.reporting_money import money_convert, money_ratio, reporting_currency_for

NOW = datetime(2026, 3, 12, 15, 30, tzinfo=UTC)  # a Thursday afternoon
SINCE = datetime(2020, 1, 1, tzinfo=UTC)
RATES = {
    ("EUR", "USD"): RateInForce(Decimal("1.0850"), SINCE, "EUR", "USD", Decimal("1.0850")),
    ("USD", "EUR"): RateInForce(Decimal(1) / Decimal("1.0850"), SINCE, "EUR", "USD", Decimal("1.0850")),
}


def parse(**params: str):
    return date_range_parse(params=params, now=NOW)


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("today", date(2026, 3, 12), date(2026, 3, 12)),
        ("yesterday", date(2026, 3, 11), date(2026, 3, 11)),
        ("7d", date(2026, 3, 6), date(2026, 3, 12)),
        ("30d", date(2026, 2, 11), date(2026, 3, 12)),
        ("this_month", date(2026, 3, 1), date(2026, 3, 12)),
        ("last_month", date(2026, 2, 1), date(2026, 2, 28)),
    ],
)
def test_each_preset_is_a_run_of_utc_days(preset, first, last) -> None:
    chosen = parse(range=preset)
    assert (chosen.first, chosen.last, chosen.preset) == (first, last, preset)
    assert chosen.start == datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    # A range that includes today ends now; one that ended ends at its last midnight.
    assert chosen.end == (NOW if last == NOW.date() else chosen.start + timedelta(days=chosen.days))


def test_today_is_compared_with_yesterday_up_to_the_same_hour() -> None:
    before = parse(range="today").previous()
    assert (before.start, before.end) == (datetime(2026, 3, 11, tzinfo=UTC), NOW - timedelta(days=1))


def test_last_month_is_compared_with_the_same_number_of_days_before_it() -> None:
    before = parse(range="last_month").previous()
    assert (before.first, before.last, before.days) == (date(2026, 1, 4), date(2026, 1, 31), 28)
    assert before.end == datetime(2026, 2, 1, tzinfo=UTC)


def test_a_custom_range_reads_start_and_end_and_the_old_period_names_still_work() -> None:
    chosen = parse(start="2026-01-05", end="2026-01-11")
    assert (chosen.preset, chosen.days, chosen.end) == ("custom", 7, datetime(2026, 1, 12, tzinfo=UTC))
    assert chosen.params() == {"range": "custom", "start": "2026-01-05", "end": "2026-01-11"}
    assert parse(period="30d").first == date(2026, 2, 11)


def test_a_range_in_another_zone_starts_at_that_zones_midnight() -> None:
    chosen = date_range_parse(
        params={"start": "2026-01-05", "end": "2026-01-05"}, now=NOW, tz=ZoneInfo("Europe/Paris")
    )
    assert chosen.start == datetime(2026, 1, 4, 23, tzinfo=UTC)
    assert chosen.end == datetime(2026, 1, 5, 23, tzinfo=UTC)


def test_an_end_in_the_future_stops_at_today() -> None:
    assert parse(start="2026-03-01", end="2026-12-31").last == NOW.date()


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start": "2026-02-30", "end": "2026-03-01"}, "bad_date"),
        ({"start": "yesterday", "end": "2026-03-01"}, "bad_date"),
        ({"start": "2026-03-01"}, "bad_date"),
        ({"start": "2026-03-05", "end": "2026-03-01"}, "range_reversed"),
        ({"start": "2027-01-01", "end": "2027-01-02"}, "range_in_future"),
        ({"start": "2020-01-01", "end": "2026-03-01"}, "range_too_long"),
        ({"range": "forever"}, "bad_range"),
        ({"range": "custom"}, "bad_range"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_a_message(params, code) -> None:
    with pytest.raises(RangeError) as refused:
        parse(**params)
    assert refused.value.code == code
    assert refused.value.status_code == 400
    assert refused.value.message


def test_the_longest_range_is_accepted() -> None:
    last = NOW.date()
    chosen = parse(start=(last - timedelta(days=MAX_DAYS - 1)).isoformat(), end=last.isoformat())
    assert chosen.days == MAX_DAYS


def test_a_delta_is_absolute_and_relative_and_has_no_percent_from_zero() -> None:
    assert (Delta(15, 10).diff, Delta(15, 10).pct, Delta(15, 10).direction) == (Decimal(5), Decimal(50), "up")
    assert Delta(Decimal("7.50"), Decimal("10.00")).pct == Decimal(-25)
    assert Delta(3, 0).pct is None
    assert Delta(3, None).diff is None


def test_totals_in_several_currencies_are_converted_at_stored_rates_and_rounded_once() -> None:
    converted = money_convert(
        amounts={"USD": Decimal("0.26"), "EUR": Decimal("0.39")}, currency="USD", rates=RATES
    )
    # 0.39 EUR x 1.0850 = 0.423150 USD: rounded once, with the dollars, to 0.68.
    assert converted.total == Decimal("0.68")
    assert converted.parts[0] == ("EUR", Decimal("0.39"), Decimal("0.423150"), Decimal("1.0850"))
    assert converted.mixed
    assert money_ratio(converted, 4) == Decimal("0.1700")


def test_a_currency_without_a_rate_gives_no_total_rather_than_a_wrong_one() -> None:
    converted = money_convert(amounts={"USD": Decimal("1"), "GBP": Decimal("2")}, currency="USD", rates=RATES)
    assert converted.total is None
    assert converted.missing == ["GBP"]


def test_the_reporting_currency_is_the_accounts_else_the_networks(settings) -> None:
    settings.REPORTING_CURRENCY = "GBP"
    assert reporting_currency_for(account=Publisher(reporting_currency="EUR")) == "EUR"
    assert reporting_currency_for(account=Publisher()) == "GBP"
    assert reporting_currency_for(account=None) == "GBP"
