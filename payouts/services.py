"""Commission lifecycle: automatic approval after the hold, manual approve / reject / reverse,
amount adjustments. Every change is new ledger entries (payouts.postings), never an edit, and
a conversion's commission and the conversion itself always move together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from affiliates.core.audit import AuditChange, audit_log_changes
from affiliates.core.errors import DomainError
from affiliates.roles import Actor, scope
from payouts import events
from payouts.models import Commission, CommissionStatus, Transaction
from payouts.postings import Change, changes_apply, commissions_lock
from payouts.reconcile import transition_kind
from tracking.conversions.status import conversion_release
from tracking.lifecycle import HOLD_JOB, Decider, Verdict, decider_for, is_network_label, transition_check
from tracking.models import Conversion, ConversionEvent, UnreconciledConversion

S = CommissionStatus
# The statuses a manual action asks for; tracking.lifecycle decides from which each may start.
ACTION_STATUSES = (S.APPROVED, S.REJECTED, S.REVERSED)
APPROVE_BATCH = 2000


@dataclass(frozen=True)
class RowError:
    ref: str  # commission id, or CSV line number
    code: str
    message: str


class BulkRefused(DomainError):
    """Some items were refused; nothing was applied. ``errors`` says which and why."""

    code = "bulk_refused"

    def __init__(self, errors: Sequence[RowError], message: str = "Nothing was applied.") -> None:
        super().__init__(message)
        self.errors = list(errors)


def actor_label(actor: Actor) -> str:
    return decider_for(actor).label


def commission_verdict(c: Commission, *, status: str, decider: Decider) -> Verdict:
    """tracking.lifecycle's rules, asked about a commission (its status, hold and decider)."""
    return transition_check(
        from_status=c.status,
        to_status=status,
        held=c.held_for_review,
        decider=decider,
        decided_by_network=is_network_label(c.status_by or ""),
    )


def commissions_for_actor(actor: Actor) -> QuerySet[Commission]:
    """Commissions an actor may change: staff all, an advertiser its offers'; publishers none."""
    if actor.is_publisher:
        return Commission.objects.none()
    # Account managers: the commissions of their advertisers' offers and of their publishers.
    return scope(
        Commission.objects.all(), actor, advertiser_path="advertiser_id", publisher_path="publisher_id"
    )


def _conversions_sync(moved: Sequence[Commission], *, actor: str, now: datetime) -> None:
    """Move the conversions behind ``moved`` to the same status, with an event each (the
    commission's status_reason as its reason). The status change queues them for
    reconciliation (tracking's trigger); they are taken out of the queue again in this
    transaction, since their commissions already are where the conversions now are."""
    convs = {c.conversion_id: c for c in moved if c.conversion_id}
    if not convs:
        return
    old = dict(Conversion.objects.filter(id__in=convs).values_list("id", "status"))
    by_state: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for conversion_id, c in convs.items():
        by_state[(c.status, c.held_for_review)].append(conversion_id)
    for (status, held), ids in by_state.items():
        Conversion.objects.filter(id__in=ids).update(status=status, held_for_review=held)
    UnreconciledConversion.objects.filter(conversion_id__in=convs).delete()
    ConversionEvent.objects.bulk_create(
        ConversionEvent(
            conversion_id=i,
            created_at=now,
            from_status=old.get(i, ""),
            to_status=c.status,
            reason=c.status_reason,
            actor=actor,
        )
        for i, c in convs.items()
        if old.get(i) != c.status
    )


def changes_commit(changes: Sequence[Change], *, actor: str, now: datetime) -> list[Commission]:
    """Apply prepared changes (status and/or amounts), move the conversions of those whose
    status changed, and announce them once committed. Caller holds the commissions' locks."""
    before = {ch.commission.pk: ch.commission.status for ch in changes}
    changed = changes_apply(changes, now=now)
    moved = [c for c in changed if c.status != before[c.pk]]
    _conversions_sync(moved, actor=actor, now=now)
    _announce(moved)
    return changed


def _announce(changed: Sequence[Commission]) -> None:
    by_event: dict[str, list[int]] = defaultdict(list)
    for c in changed:
        event = events.event_for_status(c.status)
        if event:
            by_event[event].append(c.pk)
    for event, ids in by_event.items():
        events.commissions_changed_on_commit(event=event, commission_ids=ids)


@transaction.atomic
def commissions_set_status(
    *, commission_ids: Sequence[int], status: str, reason: str, actor: Actor, now: datetime | None = None
) -> list[Commission]:
    """Approve, reject or reverse commissions, all or none, by tracking.lifecycle's rules.

    An id the actor may not see is reported as not found, like the API's 404. One already in
    the asked status is left as it is (asking twice is not an error). Staff approving or
    rejecting a commission held for review decide the review too: its hold goes.
    """
    now = now or timezone.now()
    if status not in ACTION_STATUSES:
        raise DomainError(f"Unknown action status {status!r}.", code="bad_status")
    if not reason.strip():
        raise DomainError("A reason is required.", code="reason_required")
    decider = decider_for(actor)
    ids = list(dict.fromkeys(commission_ids))
    visible = set(commissions_for_actor(actor).filter(id__in=ids).values_list("id", flat=True))
    locked = {c.pk: c for c in commissions_lock(visible)}
    errors, changes = [], []
    for pk in ids:
        c = locked.get(pk)
        if c is None:
            errors.append(RowError(str(pk), "not_found", "No such commission."))
            continue
        if c.status == status:
            continue
        verdict = commission_verdict(c, status=status, decider=decider)
        if not verdict.allowed:
            errors.append(RowError(str(pk), verdict.code, verdict.message))
            continue
        changes.append(
            Change(
                commission=c,
                status=status,
                revenue=c.revenue,
                payout=c.payout,
                txn_kind=transition_kind(status),
                reason=reason,
                actor=decider.label,
                extra={"held_for_review": c.held_for_review and not decider.is_network},
            )
        )
    if errors:
        raise BulkRefused(errors)
    return changes_commit(changes, actor=decider.label, now=now)


def commission_set_status(*, commission_id: int, status: str, reason: str, actor: Actor) -> Commission:
    """One commission; its refusal is a plain 404 / 409 rather than a list."""
    try:
        changed = commissions_set_status(
            commission_ids=[commission_id], status=status, reason=reason, actor=actor
        )
        return changed[0] if changed else Commission.objects.get(pk=commission_id)
    except BulkRefused as exc:
        error = exc.errors[0]
        raise DomainError(
            error.message, code=error.code, status_code=404 if error.code == "not_found" else 409
        ) from exc


@transaction.atomic
def conversions_release(*, conversion_ids: Sequence[int], actor: Actor, reason: str = "") -> int:
    """Staff release conversions from fraud review: the hold goes, they stay pending, so the
    hold period and the advertiser's decision still apply. All or none; returns how many.

    The commissions' hold goes in the same transaction (reconciliation would bring it along
    too, a moment later)."""
    decider = decider_for(actor)
    ids = list(dict.fromkeys(conversion_ids))
    found = {c.pk: c for c in Conversion.objects.filter(id__in=ids)}
    errors: list[RowError] = []
    for pk in ids:
        conversion = found.get(pk)
        if conversion is None:
            errors.append(RowError(str(pk), "not_found", "No such conversion."))
            continue
        verdict = conversion_release(conversion=conversion, decider=decider, reason=reason)
        if not verdict.allowed:
            errors.append(RowError(str(pk), verdict.code, verdict.message))
    if errors:
        raise BulkRefused(errors)
    released = list(Commission.objects.filter(conversion_id__in=ids, held_for_review=True))
    Commission.objects.filter(conversion_id__in=ids).update(held_for_review=False, updated_at=timezone.now())
    audit_log_changes(
        [
            AuditChange(instance=c, changes={"held_for_review": (True, False)}, source="release")
            for c in released
        ]
    )
    return len(ids)


def commissions_approve_due(*, now: datetime | None = None, batch_size: int = APPROVE_BATCH) -> int:
    """Approve pending commissions whose hold has passed, unless held for review. Batched,
    each batch claimed with SKIP LOCKED so two schedulers share the work."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                Commission.objects.filter(status=S.PENDING, held_for_review=False, hold_until__lte=now)
                .order_by("id")
                .select_for_update(skip_locked=True)[:batch_size]
            )
            changes = [
                Change(
                    commission=c,
                    status=S.APPROVED,
                    revenue=c.revenue,
                    payout=c.payout,
                    txn_kind=Transaction.Kind.APPROVAL,
                    reason="hold period passed",
                    actor=HOLD_JOB.label,
                )
                for c in due
                if commission_verdict(c, status=S.APPROVED, decider=HOLD_JOB).allowed
            ]
            changed = changes_commit(changes, actor=HOLD_JOB.label, now=now)
        total += len(changed)
        if len(due) < batch_size:
            return total
