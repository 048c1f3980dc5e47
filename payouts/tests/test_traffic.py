from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from affiliates.models import Goal
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from payouts.models import Account, Commission, Transaction
from payouts.reports.selectors import report_rows
from payouts.reports.services import rollup_rebuild
from payouts.tests.helpers import balance, every_transaction_balances
from payouts.traffic import traffic_invalidate, traffic_reconcile
from tracking.ids import new_click_id
from tracking.models import Click, Impression

K = Account.Kind
pytestmark = pytest.mark.django_db


@pytest.fixture
def banner(acme):
    offer = f.OfferFactory(advertiser=acme, name="Banner")
    f.GoalFactory(
        offer=offer,
        code="click",
        payout_type=Goal.PayoutType.CPC,
        payout=Decimal("0.015"),
        revenue=Decimal("0.025"),
        is_default=True,
    )
    f.GoalFactory(
        offer=offer,
        code="view",
        payout_type=Goal.PayoutType.CPM,
        payout=Decimal("1.10"),
        revenue=Decimal("2.00"),
    )
    return offer


def _clicks(offer, publisher, n, *, unique=True, reason="", country="", flags=()):
    now = timezone.now()
    return Click.objects.bulk_create(
        Click(
            id=new_click_id(),
            offer=offer,
            publisher=publisher,
            created_at=now,
            is_unique=unique,
            reason=reason,
            country=country,
            fraud_flags=list(flags),
        )
        for _ in range(n)
    )


def _today():
    day = timezone.now().date()
    return traffic_reconcile(day_from=day, day_to=day)


def test_unique_redirected_clicks_make_one_daily_line_that_grows(banner, pixelpush):
    _clicks(banner, pixelpush, 10)
    _clicks(banner, pixelpush, 5, unique=False)  # repeats are not paid
    _clicks(banner, pixelpush, 5, reason="geo_mismatch")  # nor clicks that were not redirected
    assert _today() == {"created": 1, "grown": 0, "shrunk": 0}
    line = Commission.objects.get(kind="cpc")
    assert (line.quantity, line.payout, line.revenue) == (10, Decimal("0.15"), Decimal("0.25"))
    _clicks(banner, pixelpush, 91)
    assert _today() == {"created": 0, "grown": 1, "shrunk": 0}
    line.refresh_from_db()
    # 101 x 0.015 = 1.515 -> 1.52 rounded once on the day's total, not per increment.
    assert (line.quantity, line.payout, line.revenue) == (101, Decimal("1.52"), Decimal("2.53"))
    kinds = list(line.transactions.values_list("kind", flat=True))
    assert kinds == [Transaction.Kind.COMMISSION, Transaction.Kind.COMMISSION_INCREASE]
    assert balance(K.PUBLISHER_PENDING, publisher=pixelpush) == Decimal("-1.52")
    assert every_transaction_balances()


def test_recounting_an_unchanged_day_posts_nothing(banner, pixelpush):
    _clicks(banner, pixelpush, 3)
    _today()
    assert _today() == {"created": 0, "grown": 0, "shrunk": 0}
    assert Transaction.objects.count() == 1


def test_impressions_pay_per_thousand_with_country_custom_payouts(banner, pixelpush):
    view = banner.goals.get(code="view")
    f.CustomPayoutFactory(offer=banner, publisher=pixelpush, goal=view, payout=Decimal("3"), countries=["US"])
    now = timezone.now()
    Impression.objects.bulk_create(
        [Impression(offer=banner, publisher=pixelpush, created_at=now, country="US") for _ in range(500)]
        + [Impression(offer=banner, publisher=pixelpush, created_at=now, country="FR") for _ in range(1000)]
    )
    _today()
    line = Commission.objects.get(kind="cpm")
    # 500/1000 x 3 + 1000/1000 x 1.10 = 2.60; revenue 1500/1000 x 2 = 3.00
    assert (line.quantity, line.payout, line.revenue) == (1500, Decimal("2.60"), Decimal("3.00"))


def test_flagged_clicks_earn_nothing_whatever_the_flag(banner, pixelpush):
    _clicks(banner, pixelpush, 4)
    for flag in ("bot_user_agent", "datacenter_ip", "click_flood", "invalidated"):
        _clicks(banner, pixelpush, 3, flags=[flag])
    _clicks(banner, pixelpush, 2, unique=False, flags=["duplicate_click"])
    _today()
    line = Commission.objects.get(kind="cpc")
    assert (line.quantity, line.payout, line.revenue) == (4, Decimal("0.06"), Decimal("0.10"))


def test_only_unique_unflagged_impressions_earn(banner, pixelpush):
    now = timezone.now()

    def views(n, **kw):
        Impression.objects.bulk_create(
            Impression(offer=banner, publisher=pixelpush, created_at=now, **kw) for _ in range(n)
        )

    views(1000)
    views(500, is_unique=False, fraud_flags=["duplicate_click"])
    views(500, fraud_flags=["bot_user_agent"])
    views(500, fraud_flags=["datacenter_ip"])
    _today()
    line = Commission.objects.get(kind="cpm")
    assert (line.quantity, line.payout, line.revenue) == (1000, Decimal("1.10"), Decimal("2.00"))


def test_a_click_judged_invalid_after_its_line_was_written_shrinks_the_line(banner, pixelpush):
    clicks = _clicks(banner, pixelpush, 101)
    _today()
    line = Commission.objects.get(kind="cpc")
    assert (line.quantity, line.payout, line.revenue) == (101, Decimal("1.52"), Decimal("2.53"))
    stats = traffic_invalidate(click_ids=[c.id for c in clicks[:41]], reason="bot farm", actor="nadia")
    assert stats == {"grown": 0, "shrunk": 1}
    line.refresh_from_db()
    # 60 x 0.015 = 0.90, 60 x 0.025 = 1.50: the day's valid count, rounded once.
    assert (line.quantity, line.payout, line.revenue) == (60, Decimal("0.90"), Decimal("1.50"))
    decrease = line.transactions.get(kind=Transaction.Kind.COMMISSION_DECREASE)
    assert "nadia: bot farm" in decrease.memo
    assert balance(K.PUBLISHER_PENDING, publisher=pixelpush) == Decimal("-0.90")
    assert balance(K.ADVERTISER_PENDING, advertiser=banner.advertiser) == Decimal("1.50")
    assert every_transaction_balances()
    assert sum("invalidated" in c.fraud_flags for c in Click.objects.all()) == 41
    # Judging the same clicks again, or recounting the day, changes nothing.
    assert traffic_invalidate(click_ids=[c.id for c in clicks[:41]], reason="again", actor="nadia") == {}
    assert _today() == {"created": 0, "grown": 0, "shrunk": 0}
    assert line.transactions.count() == 2


def test_a_line_whose_traffic_all_became_invalid_goes_to_zero(banner, pixelpush, rival):
    mine, theirs = _clicks(banner, pixelpush, 3), _clicks(banner, rival, 2)
    _today()
    line = Commission.objects.get(kind="cpc", publisher=pixelpush)
    traffic_invalidate(click_ids=[c.id for c in mine] + [theirs[0].id], reason="fraud", actor="staff")
    line.refresh_from_db()
    assert (line.quantity, line.payout, line.revenue) == (0, Decimal("0.00"), Decimal("0.00"))
    other = Commission.objects.get(kind="cpc", publisher=rival)
    assert other.quantity == 1
    assert every_transaction_balances()


def test_invalid_impressions_shrink_the_cpm_line(banner, pixelpush):
    now = timezone.now()
    views = Impression.objects.bulk_create(
        Impression(offer=banner, publisher=pixelpush, created_at=now) for _ in range(2000)
    )
    _today()
    traffic_invalidate(impression_ids=[v.id for v in views[:1000]], reason="hidden iframe", actor="nadia")
    line = Commission.objects.get(kind="cpm")
    assert (line.quantity, line.payout, line.revenue) == (1000, Decimal("1.10"), Decimal("2.00"))
    assert every_transaction_balances()


def test_the_command_invalidates_clicks_by_id_for_a_staff_member(banner, pixelpush, nadia):
    clicks = _clicks(banner, pixelpush, 5)
    _today()
    out = StringIO()
    ids = ",".join(c.id.hex for c in clicks[:2])
    call_command("traffic_invalidate", clicks=ids, reason="dispute upheld", by=nadia.username, stdout=out)
    assert "1 shrunk" in out.getvalue()
    assert Commission.objects.get(kind="cpc").quantity == 3
    with pytest.raises(CommandError):
        call_command("traffic_invalidate", clicks="not-an-id", reason="x", by=nadia.username)


def test_after_a_shrink_the_report_still_equals_the_ledger_on_both_sources(banner, pixelpush, rival):
    clicks = _clicks(banner, pixelpush, 30) + _clicks(banner, rival, 12)
    _clicks(banner, pixelpush, 5, flags=["bot_user_agent"])
    _today()
    traffic_invalidate(click_ids=[c.id for c in clicks[:7]] + [clicks[-1].id], reason="fraud", actor="nadia")
    today = timezone.now().date()
    rollup_rebuild(start=timezone.now() - timedelta(days=1), end=timezone.now() + timedelta(days=1))
    for source in ("auto", "raw"):
        report = report_rows(
            actor=Actor(role=Role.STAFF, user_id=1), start=today, end=today, group_by=["day"], source=source
        )
        (usd,) = report.totals
        assert Decimal(usd["revenue"]) == balance(K.ADVERTISER_PENDING, advertiser=banner.advertiser)
        assert -Decimal(usd["payout"]) == balance(K.PUBLISHER_PENDING, publisher=pixelpush) + balance(
            K.PUBLISHER_PENDING, publisher=rival
        )
        assert (usd["paid_clicks"], usd["invalidated_clicks"], usd["bot_clicks"]) == (34, 8, 5)
    assert every_transaction_balances()
