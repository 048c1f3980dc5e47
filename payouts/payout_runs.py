"""The payout run lifecycle: draft -> approved -> paid, and a payout that fails.

When the ledger is posted: when a payout is marked **paid**, not when the run is approved.
The ledger records money that moved: NETWORK_CASH must match the bank, and an approved
payout is still money owed that may be held back or failed at no ledger cost. Double payment
is prevented without the ledger: a run subtracts every non-failed payout from the earned
balance (see payouts.payout_build), so an approved but unpaid payout already reserves its
amount. Marking paid posts PAYOUT (debit PUBLISHER_PAYABLE, credit NETWORK_CASH, key
``payout:<id>``); a payout failing after that posts PAYOUT_FAILED, the opposite entries,
key ``payout_failed:<id>``, and its amount returns to the next run.

Every step is a status-guarded update (0 rows = already done) and every posting has a unique
key, so each call may be repeated safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from affiliates.core.audit import AuditChange, audit_diff, audit_log_changes
from affiliates.core.errors import Conflict, DomainError
from payouts.callbacks.webhooks import webhooks_payouts
from payouts.ledger import Line, account_get, ledger_post
from payouts.models import Account, Payout, PayoutRun, Transaction
from payouts.notices import payout_paid, payout_run_approved
from payouts.payout_build import payout_run_start
from payouts.tasks_payout_runs import payout_run_enqueue_build

OPEN_PAYOUT_STATUSES = (Payout.Status.DRAFT, Payout.Status.APPROVED)


def payout_run_request(*, period: date) -> tuple[PayoutRun, bool]:
    """Get or create the period's run and, while it is still building, send the build to a
    worker (again, if a worker died mid-build: the build resumes idempotently)."""
    run, created = payout_run_start(period=period)
    if run.status == PayoutRun.Status.BUILDING:
        run.task_id = payout_run_enqueue_build(run_id=run.pk)
    return run, created


def payout_run_approve(*, run: PayoutRun, user: Any = None) -> PayoutRun:
    """Approve a draft run and all its draft payouts. Repeating it changes nothing."""
    if run.status == PayoutRun.Status.BUILDING:
        raise Conflict("The run is still being built.", code="run_building")
    now = timezone.now()
    with transaction.atomic():
        approved = PayoutRun.objects.filter(pk=run.pk, status=PayoutRun.Status.DRAFT).update(
            status=PayoutRun.Status.APPROVED,
            approved_at=now,
            approved_by=user if getattr(user, "pk", None) else None,
        )
        if approved:
            drafts = list(Payout.objects.filter(run=run, status=Payout.Status.DRAFT))
            Payout.objects.filter(run=run, status=Payout.Status.DRAFT).update(status=Payout.Status.APPROVED)
            # update() sends no signal: the run's and its payouts' approval, one INSERT.
            approval = {"status": (PayoutRun.Status.DRAFT, PayoutRun.Status.APPROVED)}
            rows = [AuditChange(instance=run, changes=approval)]
            to_approved = {"status": (Payout.Status.DRAFT, Payout.Status.APPROVED)}
            rows += [AuditChange(instance=p, changes=to_approved) for p in drafts]
            audit_log_changes(rows, by=user)
            payout_run_approved(run=run)
            webhooks_payouts(action="approved", payouts=Payout.objects.filter(pk__in=[p.pk for p in drafts]))
    _run_settle(run.pk)
    run.refresh_from_db()
    return run


def payout_mark_paid(*, payout: Payout, reference: str) -> Payout:
    """Record that ``payout`` was sent, with the bank/PayPal reference, and post it."""
    reference = (reference or "").strip()
    if not reference:
        raise DomainError("A payment reference is required.", code="reference_required")
    with transaction.atomic():
        paid = Payout.objects.filter(pk=payout.pk, status=Payout.Status.APPROVED).update(
            status=Payout.Status.PAID, payment_reference=reference[:128], paid_at=timezone.now()
        )
        before = {"status": Payout.Status.APPROVED, "payment_reference": payout.payment_reference}
        payout.refresh_from_db()
        if not paid:
            _refuse_paid(payout, reference)
            return payout
        audit_log_changes([audit_diff(payout, before)])
        _post_payout(payout)
        payout_paid(payout=payout)
        webhooks_payouts(action="paid", payouts=[payout])
    _run_settle(payout.run_id)
    return payout


def payout_run_mark_paid(
    *, run: PayoutRun, references: Mapping[int, str] | None = None, reference: str = ""
) -> PayoutRun:
    """Mark payouts of an approved run paid: each with its own reference (``references``,
    payout id -> reference) or, with ``reference``, every still approved payout with that one.

    All or nothing: an unknown payout id or a refused payout rolls the whole call back."""
    if run.status in (PayoutRun.Status.BUILDING, PayoutRun.Status.DRAFT):
        raise Conflict("Approve the run before marking it paid.", code="run_not_approved")
    if not references and not reference.strip():
        raise DomainError("Give a reference, or references per payout.", code="reference_required")
    with transaction.atomic():
        for payout in _payouts_to_pay(run, references, reference):
            ref = references[payout.pk] if references else reference
            payout_mark_paid(payout=payout, reference=ref)
    _run_settle(run.pk)
    run.refresh_from_db()
    return run


def payout_fail(*, payout: Payout, reason: str) -> Payout:
    """Fail a payout (rejected by the bank, held for fraud...). Its balance is restored: if it
    was already posted, a reversing PAYOUT_FAILED transaction; the amount goes to the next run."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("A failure reason is required.", code="reason_required")
    with transaction.atomic():
        # Locks the row so a concurrent mark-paid either finished (and posted) before we read,
        # or waits and then finds the payout failed.
        locked = Payout.objects.select_for_update().get(pk=payout.pk)
        if locked.status != Payout.Status.FAILED:
            Payout.objects.filter(pk=locked.pk).exclude(status=Payout.Status.FAILED).update(
                status=Payout.Status.FAILED, failure_reason=reason[:255]
            )
            change = {"status": (locked.status, Payout.Status.FAILED), "failure_reason": ("", reason[:255])}
            audit_log_changes([AuditChange(instance=locked, changes=change)])
            if Transaction.objects.filter(key=f"payout:{locked.pk}").exists():
                _post_payout_failed(locked)
            webhooks_payouts(action="failed", payouts=Payout.objects.filter(pk=locked.pk))
    _run_settle(payout.run_id)
    payout.refresh_from_db()
    return payout


def _payouts_to_pay(run: PayoutRun, references: Mapping[int, str] | None, reference: str) -> Iterable[Payout]:
    if not references:
        return list(Payout.objects.filter(run=run, status=Payout.Status.APPROVED).order_by("pk"))
    payouts = {p.pk: p for p in Payout.objects.filter(run=run, pk__in=list(references))}
    missing = sorted(set(references) - set(payouts))
    if missing:
        raise DomainError(f"Payouts not in this run: {missing}.", code="unknown_payout")
    return [payouts[pk] for pk in sorted(payouts)]


def _refuse_paid(payout: Payout, reference: str) -> None:
    """Explain why a payout could not be marked paid, unless it already was with this reference."""
    if payout.status == Payout.Status.PAID:
        if payout.payment_reference != reference[:128]:
            raise Conflict(
                f"Payout {payout.pk} was already paid with reference {payout.payment_reference!r}.",
                code="already_paid",
            )
        return
    if payout.status == Payout.Status.FAILED:
        raise Conflict(f"Payout {payout.pk} has failed.", code="payout_failed")
    if payout.status == Payout.Status.HELD:
        raise Conflict(f"Payout {payout.pk} is held: {payout.hold_reason}.", code="payout_held")
    raise Conflict(f"Payout {payout.pk} is not approved yet.", code="payout_not_approved")


def _accounts(payout: Payout) -> tuple[Account, Account]:
    payable = account_get(
        kind=Account.Kind.PUBLISHER_PAYABLE, currency=payout.currency, publisher_id=payout.publisher_id
    )
    cash = account_get(kind=Account.Kind.NETWORK_CASH, currency=payout.currency)
    return payable, cash


def _post_payout(payout: Payout) -> None:
    payable, cash = _accounts(payout)
    ledger_post(
        kind=Transaction.Kind.PAYOUT,
        key=f"payout:{payout.pk}",
        lines=[Line(payable, payout.amount), Line(cash, -payout.amount)],
        payout=payout,
        memo=f"Payout {payout.period:%Y-%m} ref {payout.payment_reference}"[:255],
    )


def _post_payout_failed(payout: Payout) -> None:
    payable, cash = _accounts(payout)
    ledger_post(
        kind=Transaction.Kind.PAYOUT_FAILED,
        key=f"payout_failed:{payout.pk}",
        lines=[Line(payable, -payout.amount), Line(cash, payout.amount)],
        payout=payout,
        memo=f"Payout {payout.period:%Y-%m} failed"[:255],
    )


def _run_settle(run_id: int) -> None:
    """An approved run with no payout left to pay is paid."""
    open_payouts = Payout.objects.filter(run=OuterRef("pk"), status__in=OPEN_PAYOUT_STATUSES)
    settled = (
        PayoutRun.objects.filter(pk=run_id, status=PayoutRun.Status.APPROVED)
        .filter(~Exists(open_payouts))
        .update(status=PayoutRun.Status.PAID, paid_at=timezone.now())
    )
    if settled:
        run = PayoutRun.objects.get(pk=run_id)
        change = {"status": (PayoutRun.Status.APPROVED, PayoutRun.Status.PAID)}
        audit_log_changes([AuditChange(instance=run, changes=change, source="payout run settled")])
