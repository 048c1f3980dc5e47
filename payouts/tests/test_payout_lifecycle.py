"""A run goes draft -> approved -> paid; payouts can fail. Every step may be repeated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from affiliates.core.errors import DomainError
from affiliates.models import Publisher
from payouts.ledger import publisher_balances
from payouts.models import Account, Entry, Payout, PayoutRun, Transaction
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.payout_runs import payout_fail, payout_mark_paid, payout_run_approve, payout_run_mark_paid
from payouts.tests.factories_payouts import approve_balance, mid

JAN, FEB = date(2024, 1, 1), date(2024, 2, 1)


@pytest.fixture
def jan_run(pixelpush: Publisher, rival: Publisher) -> PayoutRun:
    approve_balance(pixelpush, "120.00", at=mid(JAN))
    approve_balance(rival, "80.00", at=mid(JAN))
    run, _ = payout_run_start(period=JAN)
    payout_run_build(run_id=run.pk)
    run.refresh_from_db()
    return run


def cash_balance(currency: str = "USD") -> Decimal:
    total = Entry.objects.filter(account__kind=Account.Kind.NETWORK_CASH, currency=currency).values_list(
        "amount", flat=True
    )
    return sum(total, Decimal("0"))


def test_approving_a_run_approves_its_payouts_and_repeating_it_changes_nothing(
    jan_run: PayoutRun, nadia: object
) -> None:
    payout_run_approve(run=jan_run, user=nadia)
    first_approved_at = PayoutRun.objects.get(pk=jan_run.pk).approved_at
    again = payout_run_approve(run=jan_run, user=nadia)

    assert again.status == PayoutRun.Status.APPROVED
    assert again.approved_at == first_approved_at
    assert again.approved_by == nadia
    assert set(jan_run.payouts.values_list("status", flat=True)) == {Payout.Status.APPROVED}
    assert not Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).exists()  # posted when paid


def test_a_run_still_building_cannot_be_approved(pixelpush: Publisher) -> None:
    run, _ = payout_run_start(period=JAN)

    with pytest.raises(DomainError) as err:
        payout_run_approve(run=run)
    assert err.value.code == "run_building"


def test_marking_a_payout_paid_posts_it_once(jan_run: PayoutRun, pixelpush: Publisher) -> None:
    payout_run_approve(run=jan_run)
    payout = jan_run.payouts.get(publisher=pixelpush)

    payout_mark_paid(payout=payout, reference="WIRE-001")
    payout_mark_paid(payout=payout, reference="WIRE-001")

    payout.refresh_from_db()
    assert (payout.status, payout.payment_reference) == (Payout.Status.PAID, "WIRE-001")
    txn = Transaction.objects.get(kind=Transaction.Kind.PAYOUT)
    assert (txn.key, txn.payout_id) == (f"payout:{payout.pk}", payout.pk)
    assert sorted(txn.entries.values_list("amount", flat=True)) == [Decimal("-120"), Decimal("120")]
    assert publisher_balances(publisher_id=pixelpush.pk) == {"USD": Decimal("0")}
    assert cash_balance() == Decimal("-120")


def test_a_paid_payout_refuses_a_different_reference(jan_run: PayoutRun, pixelpush: Publisher) -> None:
    payout_run_approve(run=jan_run)
    payout = jan_run.payouts.get(publisher=pixelpush)
    payout_mark_paid(payout=payout, reference="WIRE-001")

    with pytest.raises(DomainError) as err:
        payout_mark_paid(payout=payout, reference="WIRE-999")
    assert err.value.code == "already_paid"


def test_a_draft_payout_cannot_be_marked_paid(jan_run: PayoutRun, pixelpush: Publisher) -> None:
    with pytest.raises(DomainError) as err:
        payout_mark_paid(payout=jan_run.payouts.get(publisher=pixelpush), reference="WIRE-001")
    assert err.value.code == "payout_not_approved"
    assert not Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).exists()


def test_the_run_is_paid_when_every_payout_is_paid_or_failed(
    jan_run: PayoutRun, pixelpush: Publisher, rival: Publisher
) -> None:
    payout_run_approve(run=jan_run)
    payout_mark_paid(payout=jan_run.payouts.get(publisher=pixelpush), reference="WIRE-001")
    assert PayoutRun.objects.get(pk=jan_run.pk).status == PayoutRun.Status.APPROVED

    payout_fail(payout=jan_run.payouts.get(publisher=rival), reason="PayPal account closed")

    run = PayoutRun.objects.get(pk=jan_run.pk)
    assert run.status == PayoutRun.Status.PAID
    assert run.paid_at is not None


def test_a_run_is_marked_paid_with_a_reference_per_payout(
    jan_run: PayoutRun, pixelpush: Publisher, rival: Publisher
) -> None:
    payout_run_approve(run=jan_run)
    pp, rv = jan_run.payouts.get(publisher=pixelpush), jan_run.payouts.get(publisher=rival)

    run = payout_run_mark_paid(run=jan_run, references={pp.pk: "PP-1", rv.pk: "RV-1"})

    assert run.status == PayoutRun.Status.PAID
    assert dict(jan_run.payouts.values_list("pk", "payment_reference")) == {pp.pk: "PP-1", rv.pk: "RV-1"}
    assert Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).count() == 2


def test_marking_a_run_paid_with_an_unknown_payout_pays_nothing(
    jan_run: PayoutRun, pixelpush: Publisher
) -> None:
    payout_run_approve(run=jan_run)
    pp = jan_run.payouts.get(publisher=pixelpush)

    with pytest.raises(DomainError) as err:
        payout_run_mark_paid(run=jan_run, references={pp.pk: "PP-1", 999999: "X"})

    assert err.value.code == "unknown_payout"
    assert not jan_run.payouts.filter(status=Payout.Status.PAID).exists()
    assert not Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).exists()


def test_a_draft_run_cannot_be_marked_paid(jan_run: PayoutRun) -> None:
    with pytest.raises(DomainError) as err:
        payout_run_mark_paid(run=jan_run, reference="BATCH-1")
    assert err.value.code == "run_not_approved"


def test_a_payout_failing_before_payment_posts_nothing_and_returns_to_the_next_run(
    jan_run: PayoutRun, pixelpush: Publisher
) -> None:
    payout = jan_run.payouts.get(publisher=pixelpush)
    payout_fail(payout=payout, reason="Suspected fraud, under review")

    payout.refresh_from_db()
    assert (payout.status, payout.failure_reason) == (Payout.Status.FAILED, "Suspected fraud, under review")
    assert not Transaction.objects.filter(payout=payout).exists()
    feb, _ = payout_run_start(period=FEB)
    payout_run_build(run_id=feb.pk)
    assert feb.payouts.get(publisher=pixelpush).amount == Decimal("120.00")


def test_a_paid_payout_that_fails_restores_the_balance_once(jan_run: PayoutRun, pixelpush: Publisher) -> None:
    payout_run_approve(run=jan_run)
    payout = jan_run.payouts.get(publisher=pixelpush)
    payout_mark_paid(payout=payout, reference="WIRE-001")

    payout_fail(payout=payout, reason="Wire returned: IBAN invalid")
    payout_fail(payout=payout, reason="Wire returned: IBAN invalid")

    reversal = Transaction.objects.get(kind=Transaction.Kind.PAYOUT_FAILED)
    assert (reversal.key, reversal.payout_id) == (f"payout_failed:{payout.pk}", payout.pk)
    assert publisher_balances(publisher_id=pixelpush.pk) == {"USD": Decimal("120")}
    assert cash_balance() == Decimal("0")
    feb, _ = payout_run_start(period=FEB)
    payout_run_build(run_id=feb.pk)
    assert feb.payouts.get(publisher=pixelpush).amount == Decimal("120.00")


def test_a_failed_payout_cannot_be_marked_paid(jan_run: PayoutRun, pixelpush: Publisher) -> None:
    payout_run_approve(run=jan_run)
    payout = jan_run.payouts.get(publisher=pixelpush)
    payout_fail(payout=payout, reason="Account closed")

    with pytest.raises(DomainError) as err:
        payout_mark_paid(payout=payout, reference="WIRE-001")
    assert err.value.code == "payout_failed"


def test_failing_needs_a_reason_and_paying_needs_a_reference(
    jan_run: PayoutRun, pixelpush: Publisher
) -> None:
    payout = jan_run.payouts.get(publisher=pixelpush)
    with pytest.raises(DomainError, match="reason"):
        payout_fail(payout=payout, reason="  ")
    with pytest.raises(DomainError, match="reference"):
        payout_mark_paid(payout=payout, reference="")
