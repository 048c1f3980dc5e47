from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from affiliates.roles import actor_for
from payouts.ledger import Line as LedgerLine
from payouts.ledger import account_get, ledger_post
from payouts.models import Account, Commission, Entry, Transaction
from payouts.reconcile import conversions_reconcile
from payouts.selectors import publisher_summary
from payouts.services import BulkRefused, commissions_approve_due, commissions_set_status
from payouts.tests.helpers import balance, convert, every_transaction_balances, queued
from tracking.models import ConversionEvent

K = Account.Kind
pytestmark = pytest.mark.django_db


def _lead(shoes, pixelpush, **kw):
    conversion = convert(shoes, pixelpush, goal="lead", **kw)
    conversions_reconcile()
    return Commission.objects.get(conversion=conversion)


def test_commissions_past_their_hold_are_approved_but_not_those_held_for_review(shoes, pixelpush):
    shoes.hold_days = 7
    shoes.save()
    old = timezone.now() - timedelta(days=8)
    due = _lead(shoes, pixelpush, at=old)
    held = _lead(shoes, pixelpush, at=old, held=True)
    young = _lead(shoes, pixelpush)
    assert commissions_approve_due() == 1
    statuses = dict(Commission.objects.values_list("id", "status"))
    assert statuses == {due.pk: "approved", held.pk: "pending", young.pk: "pending"}
    assert balance(K.PUBLISHER_PAYABLE, publisher=pixelpush) == Decimal("-1.50")
    assert balance(K.PUBLISHER_PENDING, publisher=pixelpush) == Decimal("-3.00")
    due.conversion.refresh_from_db()
    assert due.conversion.status == "approved"
    assert ConversionEvent.objects.filter(
        conversion=due.conversion, to_status="approved", actor="hold"
    ).exists()
    assert commissions_approve_due() == 0


def test_an_advertiser_rejects_its_commission_and_the_conversion_follows(shoes, pixelpush, ada):
    c = _lead(shoes, pixelpush)
    commissions_set_status(
        commission_ids=[c.pk], status="rejected", reason="duplicate lead", actor=actor_for(ada)
    )
    c.refresh_from_db()
    assert (c.status, c.status_reason) == ("rejected", "duplicate lead")
    assert balance(K.PUBLISHER_PENDING, publisher=pixelpush) == 0
    event = ConversionEvent.objects.exclude(from_status="").get(conversion=c.conversion)
    assert (event.from_status, event.to_status, event.reason) == ("pending", "rejected", "duplicate lead")
    assert event.actor.startswith("advertiser:")
    assert not queued()  # the commission moved first: nothing left for reconciliation to follow


def test_another_advertiser_cannot_touch_it(shoes, pixelpush, gus):
    c = _lead(shoes, pixelpush)
    with pytest.raises(BulkRefused) as exc:
        commissions_set_status(commission_ids=[c.pk], status="approved", reason="x", actor=actor_for(gus))
    assert exc.value.errors[0].code == "not_found"


def test_a_bulk_action_with_one_bad_id_applies_nothing(shoes, pixelpush, nadia):
    a, b = _lead(shoes, pixelpush), _lead(shoes, pixelpush)
    commissions_set_status(commission_ids=[b.pk], status="rejected", reason="fraud", actor=actor_for(nadia))
    with pytest.raises(BulkRefused) as exc:
        commissions_set_status(
            commission_ids=[a.pk, b.pk], status="approved", reason="ok", actor=actor_for(nadia)
        )
    assert [(e.ref, e.code) for e in exc.value.errors] == [(str(b.pk), "status_final")]
    a.refresh_from_db()
    assert a.status == "pending"


def test_a_reversal_after_payout_leaves_a_negative_balance_the_next_payout_nets(shoes, pixelpush, nadia):
    c = _lead(shoes, pixelpush)
    other = _lead(shoes, pixelpush)
    staff = actor_for(nadia)
    commissions_set_status(commission_ids=[c.pk, other.pk], status="approved", reason="ok", actor=staff)
    payable = account_get(kind=K.PUBLISHER_PAYABLE, currency="USD", publisher_id=pixelpush.pk)
    cash = account_get(kind=K.NETWORK_CASH, currency="USD")
    ledger_post(
        kind=Transaction.Kind.PAYOUT,
        key="payout:test-1",
        lines=[LedgerLine(payable, Decimal("3.00")), LedgerLine(cash, Decimal("-3.00"))],
    )
    assert publisher_summary(publisher_id=pixelpush.pk)["USD"]["approved"] == 0
    commissions_set_status(commission_ids=[c.pk], status="reversed", reason="chargeback", actor=staff)
    summary = publisher_summary(publisher_id=pixelpush.pk)["USD"]
    assert summary["approved"] == Decimal("-1.50")  # owed back, netted from the next payout
    assert summary["paid"] == Decimal("3.00")
    nxt = _lead(shoes, pixelpush)
    commissions_set_status(commission_ids=[nxt.pk], status="approved", reason="ok", actor=staff)
    assert publisher_summary(publisher_id=pixelpush.pk)["USD"]["approved"] == Decimal("0.00")
    assert every_transaction_balances()


def test_the_database_refuses_to_edit_or_delete_ledger_rows(shoes, pixelpush):
    _lead(shoes, pixelpush)
    entry = Entry.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=Decimal("999"))
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Transaction.objects.filter(pk=entry.transaction_id).update(memo="edited")
    entry.refresh_from_db()
    assert entry.amount != Decimal("999")


def test_every_entry_links_to_its_source(shoes, pixelpush, nadia):
    c = _lead(shoes, pixelpush)
    commissions_set_status(commission_ids=[c.pk], status="approved", reason="ok", actor=actor_for(nadia))
    kinds = list(Transaction.objects.filter(commission=c).values_list("kind", "key"))
    assert kinds == [("commission", f"commission:{c.pk}:r1"), ("approval", f"commission:{c.pk}:r2")]
    assert not Entry.objects.filter(transaction__commission__isnull=True).exists()
