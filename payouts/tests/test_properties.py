"""Property tests of the money rules: rounding, balanced transactions, derived balances."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from affiliates.core.money import MoneySum, money_round
from affiliates.models import Goal
from affiliates.pricing import Price
from affiliates.roles import actor_for
from payouts.models import Account, Commission, Entry
from payouts.postings import position
from payouts.reconcile import conversions_reconcile
from payouts.services import BulkRefused, commissions_set_status
from payouts.tests.helpers import convert, every_transaction_balances

# (currency, exact amount, expected): 0-, 2- and 3-decimal currencies, ties rounding half up.
GOLDEN = [
    ("JPY", "0.5", "1"),
    ("JPY", "1.5", "2"),
    ("JPY", "2.5", "3"),
    ("JPY", "1234.4999", "1234"),
    ("USD", "0.005", "0.01"),
    ("USD", "0.015", "0.02"),
    ("USD", "2.675", "2.68"),
    ("USD", "2.665", "2.67"),
    ("USD", "1.004999", "1.00"),
    ("USD", "0", "0.00"),
    ("KWD", "1.0005", "1.001"),
    ("KWD", "0.0004", "0.000"),
    ("KWD", "12.3455", "12.346"),
]
# (currency, sale, percent, expected commission): CPS = sale x percent / 100, rounded once.
SPLITS = [
    ("USD", "123.45", "8", "9.88"),  # 9.876
    ("USD", "123.45", "12", "14.81"),  # 14.814
    ("USD", "0.125", "100", "0.13"),  # a half-cent tie
    ("USD", "10.05", "50", "5.03"),  # 5.025, a tie
    ("USD", "19.99", "33.333333", "6.66"),  # 6.6633...
    ("JPY", "1250", "10", "125"),
    ("JPY", "1255", "10", "126"),  # 125.5, a tie
    ("JPY", "999", "7.5", "75"),  # 74.925
    ("KWD", "10.005", "10", "1.001"),  # 1.0005, a tie
    ("KWD", "3.333", "33", "1.100"),  # 1.09989
]


@pytest.mark.parametrize(("currency", "amount", "expected"), GOLDEN)
def test_money_round_matches_the_golden_table(currency, amount, expected):
    rounded = money_round(Decimal(amount), currency)
    assert rounded == Decimal(expected)
    assert str(rounded) == expected  # and carries exactly the currency's minor unit


@pytest.mark.parametrize(("currency", "sale", "percent", "expected"), SPLITS)
def test_percentage_splits_round_once_half_up(currency, sale, percent, expected):
    payout, _ = Price("cps", Decimal(percent), Decimal("0"), "goal:1").amounts(Decimal(sale))
    assert money_round(payout, currency) == Decimal(expected)


@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False, allow_infinity=False),
    currency=st.sampled_from(["JPY", "USD", "KWD", "EUR", "BHD", "CLP"]),
)
def test_rounding_is_within_half_a_minor_unit_and_idempotent(amount, currency):
    rounded = money_round(amount, currency)
    unit = Decimal(1).scaleb(-{"JPY": 0, "CLP": 0, "KWD": 3, "BHD": 3}.get(currency, 2))
    assert abs(rounded - amount) <= unit / 2
    assert money_round(rounded, currency) == rounded


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
actions = st.lists(
    st.tuples(st.integers(0, 9), st.sampled_from(["approved", "rejected", "reversed"])), max_size=8
)


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sales=st.lists(st.tuples(st.sampled_from(["sale", "lead"]), amounts), min_size=1, max_size=10),
    steps=actions,
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_every_transaction_balances_and_balances_are_the_sum_of_entries(
    shoes, pixelpush, nadia, sales, steps, currency
):
    with transaction.atomic():
        shoes.currency = currency
        shoes.save()
        for goal, amount in sales:
            convert(shoes, pixelpush, goal=goal, amount=str(amount))
        conversions_reconcile()
        ids = list(Commission.objects.order_by("id").values_list("id", flat=True))
        for index, status in steps:
            # An invalid transition changes nothing, which the invariants below also check.
            with contextlib.suppress(BulkRefused):
                commissions_set_status(
                    commission_ids=[ids[index % len(ids)]], status=status, reason="p", actor=actor_for(nadia)
                )
        assert every_transaction_balances()
        # Each account's balance is exactly what its commissions' final positions say.
        expected: dict[str, Decimal] = defaultdict(Decimal)
        for c in Commission.objects.all():
            assert money_round(c.payout, c.currency) == c.payout
            for kind, value in position(c.status, c.revenue, c.payout).items():
                expected[kind] += value
        actual = {
            row["account__kind"]: row["t"]
            for row in Entry.objects.values("account__kind").annotate(t=MoneySum("amount"))
        }
        for kind in Account.Kind.values:
            assert actual.get(kind, Decimal(0)) == expected.get(kind, Decimal(0)), kind
        # And summing entries one by one in Python gives the same as the database's SUM.
        for account in Account.objects.all():
            by_hand = sum((e.amount for e in Entry.objects.filter(account=account)), Decimal(0))
            assert by_hand == actual.get(account.kind, Decimal(0))
        transaction.set_rollback(True)


def test_goal_types_that_earn_per_action_are_the_ones_reconciled():
    from payouts.reconcile import ACTION_TYPES

    assert set(ACTION_TYPES) == {
        Goal.PayoutType.CPL,
        Goal.PayoutType.CPA,
        Goal.PayoutType.CPS,
        Goal.PayoutType.CPI,
    }
