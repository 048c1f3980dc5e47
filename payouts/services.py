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

from affiliates.core.errors import DomainError
from affiliates.roles import Actor
from payouts import events
from payouts.models import Commission, CommissionStatus, Transaction
from payouts.postings import Change, changes_apply, commissions_lock
from payouts.reconcile import transition_kind
from tracking.models import Conversion, ConversionEvent, UnreconciledConversion

S = CommissionStatus
# Which status a manual action may start from. Approving a rejected commission is not allowed:
# rejection is final for the advertiser; the network can re-open through an adjustment upload.
ALLOWED_FROM = {
    S.APPROVED: {S.PENDING},
    S.REJECTED: {S.PENDING},
    S.REVERSED: {S.PENDING, S.APPROVED},
}
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
    if actor.is_staff:
        return f"staff:{actor.user_id}"
    if actor.is_advertiser:
        return f"advertiser:{actor.advertiser_id}"
    return f"user:{actor.user_id}"


def commissions_for_actor(actor: Actor) -> QuerySet[Commission]:
    """Commissions an actor may change: staff all, an advertiser its offers'; publishers none."""
    qs = Commission.objects.all()
    if actor.is_staff:
        return qs
    if actor.is_advertiser:
        return qs.filter(advertiser_id=actor.advertiser_id or 0)
    return qs.none()


def _conversions_sync(moved: Sequence[Commission], *, actor: str, now: datetime) -> None:
    """Move the conversions behind ``moved`` to the same status, with an event each (the
    commission's status_reason as its reason). The status change queues them for
    reconciliation (tracking's trigger); they are taken out of the queue again in this
    transaction, since their commissions already are where the conversions now are."""
    convs = {c.conversion_id: c for c in moved if c.conversion_id}
    if not convs:
        return
    old = dict(Conversion.objects.filter(id__in=convs).values_list("id", "status"))
    by_status: dict[str, list[int]] = defaultdict(list)
    for conversion_id, c in convs.items():
        by_status[c.status].append(conversion_id)
    for status, ids in by_status.items():
        Conversion.objects.filter(id__in=ids).update(status=status)
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
    """Approve, reject or reverse commissions, all or none.

    An id the actor may not see is reported as not found, like the API's 404.
    """
    now = now or timezone.now()
    if status not in ALLOWED_FROM:
        raise DomainError(f"Unknown action status {status!r}.", code="bad_status")
    if not reason.strip():
        raise DomainError("A reason is required.", code="reason_required")
    ids = list(dict.fromkeys(commission_ids))
    visible = set(commissions_for_actor(actor).filter(id__in=ids).values_list("id", flat=True))
    locked = {c.pk: c for c in commissions_lock(visible)}
    errors, changes = [], []
    for pk in ids:
        c = locked.get(pk)
        if c is None:
            errors.append(RowError(str(pk), "not_found", "No such commission."))
        elif c.status not in ALLOWED_FROM[status]:  # type: ignore[index]
            errors.append(RowError(str(pk), "invalid_transition", f"Cannot go from {c.status} to {status}."))
        else:
            changes.append(
                Change(
                    commission=c,
                    status=status,
                    revenue=c.revenue,
                    payout=c.payout,
                    txn_kind=transition_kind(status),
                    reason=reason,
                    extra={"held_for_review": False},
                )
            )
    if errors:
        raise BulkRefused(errors)
    return changes_commit(changes, actor=actor_label(actor), now=now)


def commission_set_status(*, commission_id: int, status: str, reason: str, actor: Actor) -> Commission:
    """One commission; its refusal is a plain 404 / 409 rather than a list."""
    try:
        return commissions_set_status(
            commission_ids=[commission_id], status=status, reason=reason, actor=actor
        )[0]
    except BulkRefused as exc:
        error = exc.errors[0]
        raise DomainError(
            error.message, code=error.code, status_code=404 if error.code == "not_found" else 409
        ) from exc


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
                )
                for c in due
            ]
            changed = changes_commit(changes, actor="hold", now=now)
        total += len(changed)
        if len(due) < batch_size:
            return total
