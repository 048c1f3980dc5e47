"""Building a payout run: one payout per (publisher, period, currency) of the approved balance.

What a run pays, per publisher and currency::

    owed    = approved payable earned up to the period end
              (entries of PUBLISHER_PAYABLE created before it, except payout postings)
    covered = every non-failed payout of another period (draft, approved or paid)
    amount  = owed - covered

Payout postings are left out of ``owed`` and counted through the Payout rows instead, so the
result does not depend on *when* a payout was posted to the ledger (it is posted when paid,
see payouts.payout_runs): an approved but unpaid payout of March already covers March's
money when April is built. A reversal after payout lowers ``owed`` below ``covered``; the
negative remainder is netted against what the publisher earns next. A failed payout no
longer covers anything, so its amount returns to the next run.

A payout is made where ``amount`` reaches the publisher's ``minimum_payout``; otherwise it
carries over, simply by not being covered. The threshold is set in the publisher's
``payout_currency``; a balance in another currency is compared with the threshold converted
at the FX rate in force at the period end. Without such a rate the balance is held (carried
over) rather than guessed at, and the run's result counts it under ``held_no_fx_rate``.
Suspended and rejected publishers are held too, as networks do while they investigate.

Set-based and in chunks: per chunk of publishers one aggregate over entries, one over payouts,
one read of publishers and one bulk insert. Each chunk is one transaction under a global
build lock (a PostgreSQL advisory lock; SQLite's IMMEDIATE transactions serialise writers
already), so two builders, even of two different periods, never compute the same
publisher's balance from the same stale set of payouts. The unique (publisher, period,
currency) constraint makes a rebuilt chunk insert nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from affiliates.core.db import db_advisory_lock
from affiliates.core.errors import DomainError
from affiliates.core.money import money_round
from affiliates.models import FxRate, Publisher
from payouts.exports.tabular import amount_text
from payouts.models import Account, Entry, Payout, PayoutRun, Transaction
from payouts.periods import period_end, period_label

PAYOUT_TXN_KINDS = (Transaction.Kind.PAYOUT, Transaction.Kind.PAYOUT_FAILED)
HELD_PUBLISHER_STATUSES = (Publisher.Status.SUSPENDED, Publisher.Status.REJECTED)
# Any constant works; it only has to be the same in every process that builds runs.
_BUILD_LOCK_KEY = 0x7061_7972_756E  # "payrun"
DEFAULT_CHUNK_SIZE = 1000

Progress = Callable[[int, int], None]


@dataclass
class BuildResult:
    run_id: int
    period: str
    status: str
    built_now: bool = False
    payouts: int = 0
    created: int = 0
    carried_over: int = 0
    held_no_fx_rate: int = 0
    held_publisher_status: int = 0
    totals: dict[str, str] = field(default_factory=dict)


def payout_run_start(*, period: date) -> tuple[PayoutRun, bool]:
    """Get or create the one run of ``period``. A period still open cannot be paid yet."""
    if period_end(period) > timezone.now():
        raise DomainError(f"{period_label(period)} has not ended yet.", code="period_open")
    # The unique period makes two concurrent callers share one row: get_or_create retries the
    # read when its insert loses the race.
    return PayoutRun.objects.get_or_create(period=period)


def payout_run_build(
    *, run_id: int, on_progress: Progress | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> BuildResult:
    """Build the run's payouts if it is still building; then it is a draft. Idempotent."""
    run = PayoutRun.objects.get(pk=run_id)
    result = BuildResult(run_id=run.pk, period=period_label(run.period), status=run.status)
    if run.status == PayoutRun.Status.BUILDING:
        result.built_now = True
        before = Payout.objects.filter(run=run).count()
        _build(run, result, on_progress, chunk_size)
        # Counted, not taken from bulk_create: with ignore_conflicts it returns every row offered.
        result.created = Payout.objects.filter(run=run).count() - before
        PayoutRun.objects.filter(pk=run.pk, status=PayoutRun.Status.BUILDING).update(
            status=PayoutRun.Status.DRAFT
        )
        run.refresh_from_db()
        result.status = run.status
    _summarise(run, result)
    return result


def _build(run: PayoutRun, result: BuildResult, on_progress: Progress | None, chunk_size: int) -> None:
    publisher_ids = sorted(
        Account.objects.filter(kind=Account.Kind.PUBLISHER_PAYABLE, publisher__isnull=False)
        .values_list("publisher_id", flat=True)
        .distinct()
    )
    total = len(publisher_ids)
    PayoutRun.objects.filter(pk=run.pk).update(progress_total=total, progress_done=0)
    if on_progress:
        on_progress(0, total)
    end = period_end(run.period)
    rates = _threshold_rates(end)
    done = 0
    for start in range(0, total, max(1, chunk_size)):
        chunk = publisher_ids[start : start + chunk_size]
        with transaction.atomic():
            _build_lock()
            if not PayoutRun.objects.filter(pk=run.pk, status=PayoutRun.Status.BUILDING).exists():
                return  # another builder finished this run while we waited for the lock
            _build_chunk(run, end, chunk, rates, result)
        done += len(chunk)
        PayoutRun.objects.filter(pk=run.pk).update(progress_done=done)
        if on_progress:
            on_progress(done, total)


def _build_lock() -> None:
    """Serialise balance computation across builders. Caller must be inside transaction.atomic."""
    db_advisory_lock(keys=(_BUILD_LOCK_KEY,))


def _build_chunk(
    run: PayoutRun,
    end: datetime,
    publisher_ids: list[int],
    rates: dict[tuple[str, str], Decimal],
    result: BuildResult,
) -> None:
    owed = _owed(publisher_ids, end)
    covered = _covered(publisher_ids, run.period)
    publishers = {p.pk: p for p in Publisher.objects.filter(pk__in=publisher_ids)}
    new: list[Payout] = []
    for (publisher_id, currency), earned in sorted(owed.items()):
        amount = money_round(earned - covered.get((publisher_id, currency), Decimal("0")), currency)
        if amount <= 0:
            continue
        publisher = publishers[publisher_id]
        threshold = _threshold(publisher, currency, rates)
        if publisher.status in HELD_PUBLISHER_STATUSES:
            result.held_publisher_status += 1
        elif threshold is None:
            result.held_no_fx_rate += 1
        elif amount < threshold:
            result.carried_over += 1
        else:
            new.append(_payout_for(run, publisher, currency, amount))
    # ignore_conflicts: a chunk built before (crash and retry, or a concurrent builder) stays as it was.
    Payout.objects.bulk_create(new, ignore_conflicts=True)


def _owed(publisher_ids: Iterable[int], end: datetime) -> dict[tuple[int, str], Decimal]:
    rows = (
        Entry.objects.filter(
            account__kind=Account.Kind.PUBLISHER_PAYABLE,
            account__publisher_id__in=publisher_ids,
            created_at__lt=end,
        )
        .exclude(transaction__kind__in=PAYOUT_TXN_KINDS)
        .values_list("account__publisher_id", "currency")
        .annotate(total=Sum("amount"))
    )
    # Payables are credits (negative); what is owed is their negation.
    return {(pub, cur): -total for pub, cur, total in rows}


def _covered(publisher_ids: Iterable[int], period: date) -> dict[tuple[int, str], Decimal]:
    rows = (
        Payout.objects.filter(publisher_id__in=publisher_ids)
        .exclude(status=Payout.Status.FAILED)
        .exclude(period=period)
        .values_list("publisher_id", "currency")
        .annotate(total=Sum("amount"))
    )
    return {(pub, cur): total for pub, cur, total in rows}


def _threshold_rates(end: datetime) -> dict[tuple[str, str], Decimal]:
    """(from, to) -> rate in force at ``end``, both directions, from the FX table."""
    rates: dict[tuple[str, str], Decimal] = {}
    # Ordered newest first per pair, so the first seen is the one in force.
    for fx in FxRate.objects.filter(valid_from__lte=end).order_by("base", "quote", "-valid_from"):
        if (fx.base, fx.quote) not in rates:
            rates[(fx.base, fx.quote)] = fx.rate
            rates.setdefault((fx.quote, fx.base), Decimal("1") / fx.rate)
    return rates


def _threshold(publisher: Publisher, currency: str, rates: dict[tuple[str, str], Decimal]) -> Decimal | None:
    """The publisher's minimum payout in ``currency``; None when no rate converts it.

    Compared exactly, unrounded: rounding a threshold would move it, not money."""
    minimum = Decimal(publisher.minimum_payout)
    if currency == publisher.payout_currency or minimum == 0:
        return minimum
    rate = rates.get((publisher.payout_currency, currency))
    return None if rate is None else minimum * rate


def _payout_for(run: PayoutRun, publisher: Publisher, currency: str, amount: Decimal) -> Payout:
    return Payout(
        run=run,
        publisher=publisher,
        period=run.period,
        currency=currency,
        amount=amount,
        method=publisher.payout_method,
        # A snapshot: later edits to the publisher's details must not redirect this payment.
        details=dict(publisher.payout_details or {}),
    )


def _summarise(run: PayoutRun, result: BuildResult) -> None:
    rows = (
        Payout.objects.filter(run=run)
        .exclude(status=Payout.Status.FAILED)
        .values_list("currency")
        .annotate(total=Sum("amount"))
    )
    result.totals = {currency: amount_text(total, currency) for currency, total in sorted(rows)}
    result.payouts = Payout.objects.filter(run=run).count()
