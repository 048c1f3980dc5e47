"""Reconciliation's two write paths (COPY on PostgreSQL, INSERT ... ON CONFLICT elsewhere) and
the lookup and schema choices made for its speed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from affiliates.models import FxRate, Goal
from affiliates.tests import factories as f
from payouts import reconcile
from payouts.models import Account, Commission, Entry, Transaction
from payouts.reconcile_pricing import COMMISSION_COLUMNS
from payouts.tests.helpers import (
    convert,
    every_transaction_balances,
    ledger_snapshot,
    ledger_truncate,
    queued,
    requeue_all,
)
from tracking.models import Conversion

pytestmark = pytest.mark.django_db


def _varied_backlog(shoes, pixelpush, rival) -> None:
    """Every branch pricing and posting take: CPS and flat goals, a country custom payout, a
    foreign sale with its FX rate, one still waiting for a rate, approved at birth, held for
    review, a zero price (no ledger transaction), a rejected conversion and a 0-decimal offer."""
    now = timezone.now()
    lead = shoes.goals.get(code="lead")
    f.CustomPayoutFactory(offer=shoes, publisher=rival, goal=lead, payout=Decimal("3"), countries=["DE"])
    FxRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.0876"), valid_from=now - timedelta(days=3))
    f.GoalFactory(offer=shoes, code="free", payout_type=Goal.PayoutType.CPA, payout=0, revenue=0)
    yen = f.OfferFactory(advertiser=shoes.advertiser, currency="JPY")
    f.GoalFactory(offer=yen, code="sale", payout_type=Goal.PayoutType.CPS, payout=Decimal("7.5"), revenue=10)
    for i in range(12):
        publisher = rival if i % 2 else pixelpush
        convert(
            shoes, publisher, amount=f"{i * 17 + 0.125:.3f}", status="approved" if i % 5 == 0 else "pending"
        )
        convert(shoes, publisher, goal="lead", country="DE" if i % 3 else "FR", held=i % 4 == 0)
    convert(shoes, rival, amount="100", currency="EUR", at=now - timedelta(days=1))
    convert(shoes, rival, amount="100", currency="GBP")  # no rate yet: skipped
    convert(shoes, pixelpush, goal="free")
    convert(shoes, pixelpush, status="rejected")
    convert(yen, pixelpush, amount="1255")


def _everything() -> dict[str, Any]:
    """The ledger and commissions without row ids or insertion order, to compare two runs."""
    keys = dict(Commission.objects.values_list("id", "source_key"))
    return {
        "commissions": sorted(
            Commission.objects.values_list(*COMMISSION_COLUMNS, "created_at", "updated_at")
        ),
        "transactions": sorted(
            (keys[c], kind, key.replace(f":{c}:", ":"), memo, at)
            for c, kind, key, memo, at in Transaction.objects.values_list(
                "commission_id", "kind", "key", "memo", "created_at"
            )
        ),
        "entries": ledger_snapshot(),
        "entry_times": sorted(Entry.objects.values_list("created_at", flat=True)),
        "accounts": sorted(Account.objects.values_list("kind", "advertiser_id", "publisher_id", "currency")),
        "queued": sorted(queued()),
    }


def _reset() -> None:
    with connection.cursor() as cursor:
        # The first run's deferred foreign-key checks must fire first (one test transaction).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        ledger_truncate()
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    requeue_all()


@pytest.mark.postgres
def test_copy_and_insert_write_the_same_ledger(shoes, pixelpush, rival):
    _varied_backlog(shoes, pixelpush, rival)
    now = timezone.now()
    copied = reconcile._batch(after_id=0, until_id=None, limit=1000, now=now, copy=True)
    by_copy = _everything()
    _reset()
    inserted = reconcile._batch(after_id=0, until_id=None, limit=1000, now=now, copy=False)
    assert (copied.created, copied.skipped) == (inserted.created, inserted.skipped) == (27, 1)
    assert _everything() == by_copy
    assert Transaction.objects.count() == 26  # the zero price posts nothing
    assert every_transaction_balances()


@pytest.mark.postgres
def test_a_batch_meeting_a_commission_written_meanwhile_is_redone_without_a_duplicate(shoes, pixelpush):
    first, second = convert(shoes, pixelpush), convert(shoes, pixelpush, goal="lead")
    # A commission for `first` that the conversion lookup does not see (no conversion link), as
    # a writer not holding the conversion's lock could leave: COPY hits the unique source_key.
    Commission.objects.create(
        source_key=f"conversion:{first.pk}",
        kind=Commission.Kind.CPC,
        advertiser_id=shoes.advertiser_id,
        offer=shoes,
        publisher=pixelpush,
        goal=shoes.goals.get(code="lead"),
        day=first.created_at.date(),
        currency="USD",
        revenue=Decimal("1"),
        payout=Decimal("1"),
    )
    result = reconcile.conversions_reconcile()
    assert (result.claimed, result.created) == (2, 1)
    assert Commission.objects.filter(source_key=f"conversion:{first.pk}").count() == 1
    assert Commission.objects.get(conversion=second).transactions.count() == 1
    assert not queued()
    assert every_transaction_balances()


def test_in_ids_matches_in_and_an_empty_list_matches_nothing(shoes, pixelpush):
    ids = [convert(shoes, pixelpush).pk for _ in range(5)]
    wanted = [ids[0], ids[3], ids[4], 10**12]
    assert sorted(Conversion.objects.filter(id__in_ids=wanted).values_list("id", flat=True)) == sorted(
        Conversion.objects.filter(id__in=wanted).values_list("id", flat=True)
    )
    assert not Conversion.objects.filter(id__in_ids=[]).exists()
    assert Conversion.objects.filter(publisher__in_ids={pixelpush.pk}).count() == 5


def test_the_typed_commission_columns_are_the_priced_ones_plus_timestamps():
    assert [name for name, _ in reconcile._COMMISSION_COLUMNS] == [
        *COMMISSION_COLUMNS,
        "created_at",
        "updated_at",
    ]


@pytest.mark.postgres
def test_the_ledger_links_stay_checked_by_the_database():
    """Commission's advertiser/offer/publisher/goal constraints were dropped for speed (see the
    model); entries' references are checked per statement by a trigger (migration 0002_triggers); the
    other links that make the ledger explainable keep their foreign keys."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT conrelid::regclass::text, a.attname, confrelid::regclass::text
               FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
               WHERE c.contype = 'f' AND conrelid::regclass::text LIKE 'payouts_%%'"""
        )
        fks = set(cursor.fetchall())
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        triggers = {name for (name,) in cursor.fetchall()}
    assert {
        ("payouts_commission", "conversion_id", "tracking_conversion"),
        ("payouts_transaction", "commission_id", "payouts_commission"),
        ("payouts_account", "advertiser_id", "affiliates_advertiser"),
        ("payouts_account", "publisher_id", "affiliates_publisher"),
    } <= fks
    assert not {fk for fk in fks if fk[0] == "payouts_commission" and fk[1] != "conversion_id"}
    assert {
        "payouts_entry_references",
        "payouts_account_append_only",
        "payouts_entry_append_only",
    } <= triggers


@pytest.mark.postgres
@pytest.mark.parametrize("missing", ["transaction", "account"])
def test_an_entry_naming_a_missing_transaction_or_account_is_refused(shoes, pixelpush, missing):
    convert(shoes, pixelpush)
    reconcile.conversions_reconcile()
    entry = Entry.objects.first()
    row = {"transaction_id": entry.transaction_id, "account_id": entry.account_id, f"{missing}_id": 10**12}
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(amount=Decimal("1"), currency="USD", **row)
    # COPY, as reconciliation writes entries, is checked the same way.
    import psycopg

    with pytest.raises(psycopg.errors.ForeignKeyViolation), transaction.atomic():
        _copy_entry(row["transaction_id"], row["account_id"])


def _copy_entry(transaction_id: int, account_id: int) -> None:
    columns = "transaction_id, account_id, amount, currency, created_at"
    with (
        connection.cursor() as django_cursor,
        django_cursor.cursor.copy(f"COPY payouts_entry ({columns}) FROM STDIN") as copy,
    ):
        copy.write_row((transaction_id, account_id, Decimal("1"), "USD", timezone.now()))


@pytest.mark.postgres
def test_accounts_are_never_edited_or_deleted(shoes, pixelpush):
    convert(shoes, pixelpush)
    reconcile.conversions_reconcile()
    account = Account.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(currency="EUR")
    with pytest.raises(DatabaseError), transaction.atomic():
        Account.objects.filter(pk=account.pk).delete()
    assert Account.objects.get(pk=account.pk).currency == "USD"
