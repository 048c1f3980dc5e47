"""Changing a conversion's status: every change asks tracking.lifecycle, whoever asks.

The advertiser's postbacks (``status=`` on a known txn_id) and the admin's actions come here;
staff and advertiser decisions on commissions come through payouts.services, which moves the
conversion along. A change appends a ConversionEvent with who, when and why; the status change
queues the conversion for reconciliation (a trigger), which brings its commission along.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tracking.conversions.offload import blocking_io
from tracking.conversions.outcome import Outcome, Result
from tracking.conversions.services import SignatureReplayed, signature_burn, signature_replay_outcome
from tracking.lifecycle import (
    ALLOWED,
    Decider,
    Party,
    Verdict,
    is_network_label,
    release_check,
    transition_check,
)
from tracking.models import Conversion, ConversionEvent
from tracking.reasons import Reason

UNCHANGED = Verdict(True, None, "It already has that status.")


def conversion_decided_by_network(conversion: Conversion) -> bool:
    """Whether the conversion's current status is the network's decision: a rejection by our own
    rules at recording, or the last change to it made by staff or a fraud rule."""
    if conversion.is_system_rejected:
        return True
    last = (
        ConversionEvent.objects.filter(conversion_id=conversion.pk, to_status=conversion.status)
        .order_by("-created_at", "-id")
        .values_list("actor", flat=True)
        .first()
    )
    return is_network_label(last or "")


def conversion_status_change(
    *, conversion: Conversion, to_status: str, decider: Decider, reason: str = ""
) -> Verdict:
    """Move a conversion to ``to_status`` if the rules allow, and append the event.

    Returns ALLOWED when it moved, UNCHANGED when it already was there, or the refusal. The row
    is locked (PostgreSQL) or the database's one writer is held (SQLite), so two concurrent
    changes are judged one after the other, each on the status the other left.
    """
    blocking_io("a conversion's status change")
    with transaction.atomic():
        current = Conversion.objects.select_for_update().get(pk=conversion.pk)
        conversion.status, conversion.held_for_review = current.status, current.held_for_review
        if current.status == to_status:
            return UNCHANGED
        verdict = transition_check(
            from_status=current.status,
            to_status=to_status,
            held=current.held_for_review,
            decider=decider,
            decided_by_network=conversion_decided_by_network(current),
        )
        if not verdict.allowed:
            return verdict
        # A network decision settles the review: its hold goes with it.
        held = current.held_for_review and not decider.is_network
        Conversion.objects.filter(pk=conversion.pk).update(status=to_status, held_for_review=held)
        ConversionEvent.objects.create(
            conversion_id=conversion.pk,
            from_status=current.status,
            to_status=to_status,
            reason=reason[:255],
            actor=decider.label[:64],
        )
        conversion.status, conversion.held_for_review = to_status, held
        return ALLOWED


def conversion_release(*, conversion: Conversion, decider: Decider, reason: str = "") -> Verdict:
    """Staff release a conversion from fraud review: the hold goes, the status stays pending.

    The hold period and the advertiser's own decision still apply afterwards; approving now is
    a separate, explicit decision (``conversion_status_change`` to approved).
    """
    blocking_io("a conversion's release from review")
    with transaction.atomic():
        current = Conversion.objects.select_for_update().get(pk=conversion.pk)
        verdict = release_check(status=current.status, held=current.held_for_review, decider=decider)
        if not verdict.allowed:
            return verdict
        Conversion.objects.filter(pk=conversion.pk).update(held_for_review=False)
        ConversionEvent.objects.create(
            conversion_id=conversion.pk,
            from_status=current.status,
            to_status=current.status,
            reason=(reason or "released from fraud review")[:255],
            actor=decider.label[:64],
        )
        conversion.held_for_review = False
        return ALLOWED


def status_update_outcome(
    *, conversion: Conversion, to_status: str, advertiser_id: int, sig: str = ""
) -> Outcome:
    """A postback's ``status`` on a known txn_id (contract: result ``updated``), decided by the
    same rules as every other path: a refusal answers ``rejected`` with the rule's reason.

    A signed update burns its signature with the change, so the same signed message sent again
    is answered ``duplicate`` and applied at most once, whatever happened in between."""

    def answer(result: Result, reason: str = "") -> Outcome:
        return Outcome(200, result, reason, conversion.id, conversion.status, list(conversion.fraud_flags))

    if conversion.is_system_rejected:
        return answer(Result.REJECTED, Reason.NOT_UPDATABLE)
    try:
        with transaction.atomic():
            if sig:
                signature_burn(
                    sig=sig, advertiser_id=advertiser_id, at=timezone.now(), conversion_id=conversion.id
                )
            verdict = conversion_status_change(
                conversion=conversion,
                to_status=to_status,
                decider=Decider(Party.ADVERTISER, f"advertiser:{advertiser_id}"),
                reason="postback",
            )
            if verdict is not ALLOWED:  # nothing applied: the signature stays unused
                transaction.set_rollback(True)
    except SignatureReplayed:
        return signature_replay_outcome(sig)
    if verdict is UNCHANGED:
        return answer(Result.DUPLICATE)
    if not verdict.allowed:
        return answer(Result.REJECTED, Reason(verdict.code))
    return answer(Result.UPDATED)
