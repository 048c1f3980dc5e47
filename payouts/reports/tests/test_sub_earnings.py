"""CPC and CPM earnings sit on the sub ids, countries and devices of the traffic that earned
them, and reports still equal raw events and the ledger to the cent, in every grouping."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Sum

from affiliates.models import Goal
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from payouts.models import Account, Commission, CommissionShare, Entry
from payouts.reports.dimensions import DIMENSIONS
from payouts.reports.selectors import report_rows
from payouts.reports.services import rollup_rebuild
from payouts.reports.tests.test_rollups import ADDITIVE, DAY0, raw_totals
from payouts.reports.tests.traffic import traffic_write
from payouts.traffic import traffic_invalidate, traffic_reconcile
from payouts.traffic_shares import amount_split
from tracking.ids import new_click_id
from tracking.models import Click, Impression
from tracking.models.reports import ReportDirtyHour

pytestmark = pytest.mark.django_db
STAFF = Actor(role=Role.STAFF, user_id=1)
AT = datetime(2024, 4, 2, 15, 30, tzinfo=UTC)
RECEIVABLE = (Account.Kind.ADVERTISER_PENDING, Account.Kind.ADVERTISER_RECEIVABLE)


def _clicks(offer: Any, publisher: Any, n: int, **fields: Any) -> list[str]:
    ids = []
    for i in range(n):
        at = AT + timedelta(seconds=i)
        click_id = new_click_id(int(at.timestamp() * 1000))
        click = Click.objects.create(id=click_id, created_at=at, offer=offer, publisher=publisher, **fields)
        ids.append(click.pk)
    return ids


def _by_sub1(source: str | None = None) -> dict[str, tuple[Decimal, Decimal]]:
    kwargs: dict[str, Any] = {"source": source} if source else {}
    report = report_rows(actor=STAFF, start=AT.date(), end=AT.date(), group_by=["sub1"], **kwargs)
    return {r["sub1"]: (r["revenue"], r["payout"]) for r in report.rows if r["revenue"] or r["payout"]}


def test_grouping_by_sub1_puts_cpc_earnings_on_their_sub1_values(boots: Any, pixelpush: Any) -> None:
    fb = _clicks(boots, pixelpush, 3, sub1="fb", country="US")
    _clicks(boots, pixelpush, 2, sub1="tt", country="DE", device="mobile")
    _clicks(boots, pixelpush, 4, sub1="news", fraud_flags=["bot_user_agent"])  # earns nothing

    traffic_reconcile(day_from=AT.date(), day_to=AT.date())
    rollup_rebuild(start=AT - timedelta(hours=16), end=AT + timedelta(hours=8))

    expected = {
        "fb": (Decimal("0.240000"), Decimal("0.150000")),
        "tt": (Decimal("0.160000"), Decimal("0.100000")),
    }
    assert _by_sub1() == expected  # rollups: no "(none)" row holds the CPC money
    assert _by_sub1("raw") == expected
    line = Commission.objects.get(kind="cpc")
    assert (line.quantity, line.revenue) == (5, Decimal("0.40"))

    # Invalidated later: the line shrinks, and so does its sub1's share.
    traffic_invalidate(click_ids=fb[:2], reason="proxy network", actor="staff:1")
    rollup_rebuild(start=AT - timedelta(hours=16), end=AT + timedelta(hours=8))
    assert _by_sub1() == {
        "fb": (Decimal("0.080000"), Decimal("0.050000")),
        "tt": (Decimal("0.160000"), Decimal("0.100000")),
    }


def test_cpm_shares_split_the_rounded_line_exactly(globex: Any, pixelpush: Any) -> None:
    offer = f.OfferFactory(advertiser=globex, name="Banner", currency="EUR")
    f.GoalFactory(
        offer=offer, code="view", payout_type=Goal.PayoutType.CPM, payout=Decimal("1"), revenue=Decimal("1.5")
    )
    for i in range(7):
        Impression.objects.create(
            offer=offer, publisher=pixelpush, created_at=AT + timedelta(seconds=i), sub1="a" if i < 4 else "b"
        )
    traffic_reconcile(day_from=AT.date(), day_to=AT.date())

    line = Commission.objects.get(kind="cpm")
    assert line.revenue == Decimal("0.01")  # 7 x 1.50 / 1000 = 0.0105, rounded once
    shares = dict(CommissionShare.objects.filter(commission=line).values_list("sub1", "revenue"))
    assert shares == {"a": Decimal("0.005714"), "b": Decimal("0.004286")}
    assert sum(shares.values()) == line.revenue


def test_amount_split_sums_to_the_total_and_follows_the_weights() -> None:
    assert amount_split(Decimal("1.00"), [Decimal(1)] * 3) == [
        Decimal("0.333334"),
        Decimal("0.333333"),
        Decimal("0.333333"),
    ]
    assert amount_split(Decimal("0.50"), [Decimal(0), Decimal(0)]) == [Decimal("0.50"), Decimal(0)]
    assert amount_split(Decimal("2"), [Decimal(3), Decimal(1)]) == [Decimal("1.500000"), Decimal("0.500000")]


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kolkata"])
def test_every_grouping_in_another_time_zone_equals_raw_events_and_the_ledger(
    shoes: Any, boots: Any, pixelpush: Any, rival: Any, tz: str
) -> None:
    traffic_write(seed=11, offers=[shoes, boots], publishers=[pixelpush, rival], start=DAY0, hours=72)
    traffic_reconcile(day_from=DAY0.date(), day_to=(DAY0 + timedelta(days=3)).date())
    rollup_rebuild(start=DAY0 - timedelta(days=1), end=DAY0 + timedelta(days=4))
    lines = Commission.objects.filter(kind="cpc")
    ledger = Entry.objects.filter(transaction__commission__in=lines, account__kind__in=RECEIVABLE).aggregate(
        s=Sum("amount")
    )["s"]
    assert ledger == lines.aggregate(s=Sum("revenue"))["s"] > 0
    expected = {cur: raw_totals(cur, DAY0, DAY0 + timedelta(days=3)) for cur in ("EUR", "USD")}

    for dimension in DIMENSIONS:
        # Local days wide enough to hold every event of the three UTC days.
        report = report_rows(
            actor=STAFF, start=date(2024, 3, 8), end=date(2024, 3, 12), tz=tz, group_by=[dimension]
        )
        for total in report.totals:
            assert {k: total[k] for k in ADDITIVE} == expected[total["currency"]], dimension
            rows = [r for r in report.rows if r["currency"] == total["currency"]]
            assert sum((r["revenue"] for r in rows), Decimal(0)) == total["revenue"], dimension
        if dimension in ("sub1", "sub2", "country", "device"):
            # The CPC money is on the values its clicks carried, not only on the empty one.
            eur = [r for r in report.rows if r["currency"] == "EUR" and r["revenue"] > 0]
            assert len({r[dimension] for r in eur}) > 1, dimension


def _as_before_shares_existed() -> None:
    """What the old history's migration payouts 0019 left on lines written before it: one share,
    no attributes."""
    CommissionShare.objects.all().delete()
    CommissionShare.objects.bulk_create(
        CommissionShare(commission_id=pk, quantity=q, revenue=r, payout=p)
        for pk, q, r, p in Commission.objects.exclude(kind="conversion").values_list(
            "pk", "quantity", "revenue", "payout"
        )
    )


def test_the_backfill_splits_lines_written_before_shares_so_old_days_group_by_sub1(
    boots: Any, pixelpush: Any, rival: Any
) -> None:
    _clicks(boots, pixelpush, 3, sub1="fb", country="US")
    _clicks(boots, pixelpush, 2, sub1="tt", country="DE", device="mobile")
    gone = _clicks(boots, rival, 2, sub1="x")
    traffic_reconcile(day_from=AT.date(), day_to=AT.date())
    _as_before_shares_existed()
    Click.objects.filter(pk__in=gone).delete()  # raw rows purged: that line cannot be split
    window = {"start": AT - timedelta(hours=16), "end": AT + timedelta(hours=8)}
    rollup_rebuild(**window)
    assert _by_sub1()[""] == (Decimal("0.560000"), Decimal("0.350000"))  # all on "(none)"
    ledger_before = list(Entry.objects.order_by("pk").values_list("pk", "amount"))

    out = io.StringIO()
    call_command("traffic_shares_backfill", stdout=out)

    assert "1 split over 1 day(s), 1 left unsplit" in out.getvalue()
    assert ReportDirtyHour.objects.filter(hour=datetime.combine(AT.date(), time.min, tzinfo=UTC)).exists()
    rollup_rebuild(**window)
    expected = {
        "fb": (Decimal("0.240000"), Decimal("0.150000")),
        "tt": (Decimal("0.160000"), Decimal("0.100000")),
        "": (Decimal("0.160000"), Decimal("0.100000")),  # the purged line's, unsplit
    }
    assert _by_sub1() == expected
    assert _by_sub1("raw") == expected
    by_country = report_rows(actor=STAFF, start=AT.date(), end=AT.date(), group_by=["country"])
    assert {r["country"]: r["revenue"] for r in by_country.rows if r["revenue"]}["DE"] == Decimal("0.160000")
    assert list(Entry.objects.order_by("pk").values_list("pk", "amount")) == ledger_before  # shares only

    again = io.StringIO()
    call_command("traffic_shares_backfill", stdout=again)
    assert "0 split over 0 day(s), 1 left unsplit" in again.getvalue()
