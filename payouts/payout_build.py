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

Each payout is made in the publisher's ``payout_currency``: ``amount`` (the ledger's currency)
is converted at the FX rate in force at the period end, and the rate, when it came into force
and the converted ``payout_amount`` are stored on the payout, so the payment never depends on a
later rate. A publisher is paid when the total of its balances, so converted, reaches its
threshold: its own ``minimum_payout`` or the network's floor (affiliates.network_terms),
whichever is higher; otherwise everything carries over, simply by not being covered.

Some payouts are written **held**, with a ``hold_reason``, and never paid: the publisher is
suspended or rejected (``publisher_suspended``, as networks do while they investigate), has no
payout details to pay to (``no_payout_details``), or a balance has no FX rate to its payout
currency (``no_fx_rate``: held rather than guessed at). A held payout covers nothing, so the
amount returns to the next run, which pays it once the reason is gone.

Set-based and in chunks: per chunk of publishers one aggregate over entries, one over payouts,
one read of publishers and one bulk insert. Each chunk is one transaction under a global
build lock (a PostgreSQL advisory lock; SQLite's IMMEDIATE transactions serialise writers
already), so two builders, even of two different periods, never compute the same
publisher's balance from the same stale set of payouts. The unique (publisher, period,
currency) constraint makes a rebuilt chunk insert nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from affiliates.core.audit import AuditChange, audit_log_changes, audit_saved
from affiliates.core.db import db_advisory_lock
from affiliates.core.errors import DomainError
from affiliates.core.money import money_round
from affiliates.models import Publisher
from affiliates.network_terms import network_terms_get
from payouts.exports.tabular import amount_text
from payouts.fx import RateInForce, fx_rates_in_force
from payouts.models import Account, Entry, Payout, PayoutRun, Transaction
from payouts.periods import period_end, period_label

PAYOUT_TXN_KINDS = (Transaction.Kind.PAYOUT, Transaction.Kind.PAYOUT_FAILED)
# A failed or held payout pays nothing: its amount returns to the next run.
NOT_COVERING = (Payout.Status.FAILED, Payout.Status.HELD)
HELD_PUBLISHER_STATUSES = (Publisher.Status.SUSPENDED, Publisher.Status.REJECTED)
# Any constant works; it only has to be the same in every process that builds runs.
_BUILD_LOCK_KEY = 0x7061_7972_756E  # "payrun"
DEFAULT_CHUNK_SIZE = 1000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Terms:
    rates: dict[tuple[str, str], RateInForce]  # FX in force at the period end
    floors: dict[str, Decimal]  # the network's minimum payout per payout currency


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
    held_no_payout_details: int = 0
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
        built = PayoutRun.objects.filter(pk=run.pk, status=PayoutRun.Status.BUILDING).update(
            status=PayoutRun.Status.DRAFT
        )
        run.refresh_from_db()
        if built:  # once per run, whoever finished it: the run and its payouts, one INSERT
            audit_log_changes(
                [
                    AuditChange(
                        instance=run, changes={"status": ("building", "draft")}, source="payout run build"
                    )
                ]
                + [audit_saved(None, p, source="payout run build") for p in Payout.objects.filter(run=run)]
            )
        result.status = run.status
    _summarise(run, result)
    return result


def _build(run: PayoutRun, result: BuildResult, on_progress: Progress | None, chunk_size: int) -> None:
    end = period_end(run.period)
    publisher_ids = _due_publishers(run, end)
    total = len(publisher_ids)
    PayoutRun.objects.filter(pk=run.pk).update(progress_total=total, progress_done=0)
    if on_progress:
        on_progress(0, total)
    rates = fx_rates_in_force(at=end)
    terms = _Terms(rates, _floors(rates))
    done = 0
    for start in range(0, total, max(1, chunk_size)):
        chunk = publisher_ids[start : start + chunk_size]
        with transaction.atomic():
            _build_lock()
            if not PayoutRun.objects.filter(pk=run.pk, status=PayoutRun.Status.BUILDING).exists():
                return  # another builder finished this run while we waited for the lock
            _build_chunk(run, end, chunk, terms, result)
        done += len(chunk)
        PayoutRun.objects.filter(pk=run.pk).update(progress_done=done)
        if on_progress:
            on_progress(done, total)


def _due_publishers(run: PayoutRun, end: datetime) -> list[int]:
    """The publishers with a balance to pay (owed - covered > 0 in some currency): the run's
    progress counts them, not every publisher with a payable account (most owe nothing in a
    given month). Read under the build lock, as the chunks are; a balance that appears later
    (a payout of another run failing meanwhile) is paid by the next run, like any carry-over."""
    with transaction.atomic():
        _build_lock()
        owed = _owed(None, end)
        covered = _covered(None, run.period)
    due = {pub for (pub, cur), amount in owed.items() if amount - covered.get((pub, cur), Decimal("0")) > 0}
    return sorted(due)


def _build_lock() -> None:
    """Serialise balance computation across builders. Caller must be inside transaction.atomic."""
    db_advisory_lock(keys=(_BUILD_LOCK_KEY,))


def _build_chunk(
    run: PayoutRun,
    end: datetime,
    publisher_ids: list[int],
    terms: _Terms,
    result: BuildResult,
) -> None:
    owed = _owed(publisher_ids, end)
    covered = _covered(publisher_ids, run.period)
    publishers = {p.pk: p for p in Publisher.objects.filter(pk__in=publisher_ids)}
    due: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for (publisher_id, currency), earned in sorted(owed.items()):
        amount = money_round(earned - covered.get((publisher_id, currency), Decimal("0")), currency)
        if amount > 0:
            due[publisher_id][currency] = amount
    new: list[Payout] = []
    for publisher_id, amounts in sorted(due.items()):
        new += _publisher_payouts(run, publishers[publisher_id], amounts, terms, result)
    # ignore_conflicts: a chunk built before (crash and retry, or a concurrent builder) stays as it was.
    Payout.objects.bulk_create(new, ignore_conflicts=True)


def _publisher_payouts(
    run: PayoutRun,
    publisher: Publisher,
    amounts: dict[str, Decimal],
    terms: _Terms,
    result: BuildResult,
) -> list[Payout]:
    """The publisher's payouts of the run, one per currency owed, each converted to the payout
    currency; none while the total is under the threshold (it carries over)."""
    target = publisher.payout_currency
    converted = {cur: _convert(amount, cur, target, terms.rates) for cur, amount in amounts.items()}
    threshold = _threshold(publisher, terms.floors)
    total = sum((c[0] for c in converted.values() if c), Decimal("0"))
    if threshold is None or any(c is None for c in converted.values()):
        hold = "no_fx_rate"
    elif total < threshold:
        result.carried_over += 1
        return []
    elif publisher.status in HELD_PUBLISHER_STATUSES:
        hold = "publisher_suspended"
    elif not publisher.has_payout_details:
        hold = "no_payout_details"
    else:
        hold = ""
    counter = {"no_fx_rate": "held_no_fx_rate", "publisher_suspended": "held_publisher_status"}
    if hold:
        name = counter.get(hold, "held_no_payout_details")
        setattr(result, name, getattr(result, name) + 1)
    return [_payout_for(run, publisher, cur, amount, converted[cur], hold) for cur, amount in amounts.items()]


def _convert(
    amount: Decimal, currency: str, target: str, rates: dict[tuple[str, str], RateInForce]
) -> tuple[Decimal, Decimal, datetime | None] | None:
    """(amount in ``target``, rate, when the rate came into force), or None without a rate."""
    if currency == target:
        return amount, Decimal("1"), None
    found = rates.get((currency, target))
    if found is None:
        return None
    return money_round(amount * found.rate, target), found.rate, found.valid_from


def _owed(publisher_ids: Iterable[int] | None, end: datetime) -> dict[tuple[int, str], Decimal]:
    """Per (publisher, currency): what is owed up to ``end``; ``publisher_ids`` None: everyone's."""
    entries = Entry.objects.filter(
        account__kind=Account.Kind.PUBLISHER_PAYABLE, account__publisher__isnull=False, created_at__lt=end
    )
    if publisher_ids is not None:
        entries = entries.filter(account__publisher_id__in=publisher_ids)
    rows = (
        entries.exclude(transaction__kind__in=PAYOUT_TXN_KINDS)
        .values_list("account__publisher_id", "currency")
        .annotate(total=Sum("amount"))
    )
    # Payables are credits (negative); what is owed is their negation.
    return {(pub, cur): -total for pub, cur, total in rows}


def _covered(publisher_ids: Iterable[int] | None, period: date) -> dict[tuple[int, str], Decimal]:
    payouts = Payout.objects.all()
    if publisher_ids is not None:
        payouts = payouts.filter(publisher_id__in=publisher_ids)
    rows = (
        payouts.exclude(status__in=NOT_COVERING)
        .exclude(period=period)
        .values_list("publisher_id", "currency")
        .annotate(total=Sum("amount"))
    )
    return {(pub, cur): total for pub, cur, total in rows}


def _threshold(publisher: Publisher, floors: dict[str, Decimal]) -> Decimal | None:
    """The publisher's threshold in its payout currency: its own minimum, or the network's floor
    when that is higher; None when no rate converts the floor to that currency.

    Compared exactly, unrounded: rounding a threshold would move it, not money."""
    floor = floors.get(publisher.payout_currency)
    return None if floor is None else max(Decimal(publisher.minimum_payout), floor)


def _floors(rates: dict[tuple[str, str], RateInForce]) -> dict[str, Decimal]:
    """The network's floor in each publisher payout currency a rate (or none needed) converts it to."""
    terms = network_terms_get()
    floor, floor_currency = Decimal(terms.minimum_payout), terms.minimum_payout_currency
    floors: dict[str, Decimal] = {}
    for currency in Publisher.objects.values_list("payout_currency", flat=True).distinct():
        if floor == 0 or currency == floor_currency:
            floors[currency] = floor
        elif found := rates.get((floor_currency, currency)):
            floors[currency] = floor * found.rate
    return floors


def _payout_for(
    run: PayoutRun,
    publisher: Publisher,
    currency: str,
    amount: Decimal,
    converted: tuple[Decimal, Decimal, datetime | None] | None,
    hold: str,
) -> Payout:
    sent, rate, rate_at = converted or (None, None, None)
    return Payout(
        run=run,
        publisher=publisher,
        period=run.period,
        currency=currency,
        amount=amount,
        status=Payout.Status.HELD if hold else Payout.Status.DRAFT,
        hold_reason=hold,
        payout_currency=publisher.payout_currency,
        fx_rate=rate,
        fx_rate_at=rate_at,
        payout_amount=sent,
        method=publisher.payout_method,
        # A snapshot: later edits to the publisher's details must not redirect this payment.
        details=dict(publisher.payout_details or {}),
    )


def _summarise(run: PayoutRun, result: BuildResult) -> None:
    rows = (
        Payout.objects.filter(run=run)
        .exclude(status__in=NOT_COVERING)
        .values_list("currency")
        .annotate(total=Sum("amount"))
    )
    result.totals = {currency: amount_text(total, currency) for currency, total in sorted(rows)}
    result.payouts = Payout.objects.filter(run=run).count()
