"""The one set of rules for every status change of a conversion or a commission.

Conversions and commissions share their statuses (pending, approved, rejected, reversed) and a
review hold (``held_for_review`` on a pending one), and move together: a commission follows its
conversion, and a decision on a commission moves its conversion. Every path that changes a
status asks :func:`transition_check` first, whoever asks:

- the advertiser's postbacks (``status=`` on a known ``txn_id``), its API calls and portal
  actions: :data:`Party.ADVERTISER`;
- staff through the API, bulk actions, CSV adjustments, the portals and the admin:
  :data:`Party.NETWORK`;
- the hold-period job: :data:`Party.HOLD`.

The rules, and why:

- rejected and reversed are final. Money that was refused or taken back is never paid again by
  a later message; a mistake is corrected by a new adjustment, which the ledger shows. This is
  what makes the network's fraud decision outrank the advertiser's feed: once staff (or a fraud
  rule) rejected a conversion, ``status=approved`` from the advertiser is refused, with
  ``network_decision`` as its reason.
- approved money is taken back only by reversing it (approved -> reversed); approved -> rejected
  and approved -> pending are refused, so reports never see an approval vanish.
- a conversion held for review is never approved by the advertiser or the hold job. Staff
  *release* the hold (it stays pending, and the hold period and the advertiser's review still
  apply), or approve or reject it, each an explicit choice.

The database holds the same line (triggers from the migrations tracking.0002_triggers and
payouts.0002_triggers refuse an UPDATE that leaves a final status or turns approved into pending
or rejected), so no code path, admin edit or raw SQL can pay a rejected conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from affiliates.roles import Actor

PENDING, APPROVED, REJECTED, REVERSED = "pending", "approved", "rejected", "reversed"
STATUSES = (PENDING, APPROVED, REJECTED, REVERSED)
FINAL = frozenset({REJECTED, REVERSED})

# (from, to) pairs anyone may ask for; the party and the hold narrow them further below.
LAWFUL = frozenset(
    {
        (PENDING, APPROVED),
        (PENDING, REJECTED),
        (PENDING, REVERSED),
        (APPROVED, REVERSED),
    }
)


class Party(StrEnum):
    ADVERTISER = "advertiser"
    NETWORK = "network"
    HOLD = "hold"


class Refusal(StrEnum):
    """Machine-readable reasons a status change was refused (postback ``reason``, API ``code``)."""

    BAD_STATUS = "bad_status"
    STATUS_FINAL = "status_final"  # rejected or reversed: nothing moves it again
    NETWORK_DECISION = "network_decision"  # ... and it was the network's own decision
    INVALID_TRANSITION = "invalid_transition"  # e.g. approved -> rejected (reverse it instead)
    HELD_FOR_REVIEW = "held_for_review"  # approval of a conversion under fraud review
    NOT_HELD = "not_held"  # a release of something not held


@dataclass(frozen=True)
class Decider:
    """Who asks for a change: their party (what they may do) and the label kept with it."""

    party: Party
    label: str  # "staff:3", "advertiser:7", "hold": kept as the event's and commission's actor

    @property
    def is_network(self) -> bool:
        return self.party is Party.NETWORK


HOLD_JOB = Decider(Party.HOLD, "hold")


def decider_for(actor: Actor) -> Decider:
    """A portal or API user as a decider: staff are the network, anyone else the advertiser
    (publishers never reach a status change: nothing of theirs is visible to change)."""
    if actor.is_staff:
        return Decider(Party.NETWORK, f"staff:{actor.user_id}")
    if actor.is_advertiser:
        return Decider(Party.ADVERTISER, f"advertiser:{actor.advertiser_id}")
    return Decider(Party.ADVERTISER, f"user:{actor.user_id}")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    refusal: Refusal | None = None
    message: str = ""

    @property
    def code(self) -> str:
        return str(self.refusal) if self.refusal else ""


ALLOWED = Verdict(True)


def _refuse(refusal: Refusal, message: str) -> Verdict:
    return Verdict(False, refusal, message)


def transition_check(
    *, from_status: str, to_status: str, held: bool, decider: Decider, decided_by_network: bool = False
) -> Verdict:
    """May ``decider`` move a conversion or commission from ``from_status`` to ``to_status``?

    ``held`` is its review hold; ``decided_by_network`` says its current (final) status was the
    network's decision, which only changes the refusal's reason. A same-status request is not
    a transition: callers answer it as a duplicate before asking.
    """
    if to_status not in STATUSES:
        return _refuse(Refusal.BAD_STATUS, f"Unknown status {to_status!r}.")
    if from_status in FINAL:
        if decided_by_network and not decider.is_network:
            return _refuse(Refusal.NETWORK_DECISION, f"The network {from_status} it; that decision is final.")
        return _refuse(Refusal.STATUS_FINAL, f"It is {from_status}, which is final.")
    if (from_status, to_status) not in LAWFUL:
        hint = " Reverse it instead." if from_status == APPROVED and to_status == REJECTED else ""
        return _refuse(Refusal.INVALID_TRANSITION, f"Cannot go from {from_status} to {to_status}.{hint}")
    if to_status == APPROVED and held and not decider.is_network:
        return _refuse(Refusal.HELD_FOR_REVIEW, "It is held for fraud review; the network decides.")
    if decider.party is Party.HOLD and to_status != APPROVED:
        return _refuse(Refusal.INVALID_TRANSITION, "The hold period only approves.")
    return ALLOWED


def release_check(*, status: str, held: bool, decider: Decider) -> Verdict:
    """May ``decider`` release a review hold? Only the network, and only a held pending one."""
    if not decider.is_network:
        return _refuse(Refusal.HELD_FOR_REVIEW, "Only the network releases a review hold.")
    if not held or status != PENDING:
        return _refuse(Refusal.NOT_HELD, "It is not held for review.")
    return ALLOWED


def is_network_label(actor: str) -> bool:
    """Whether an event's actor label is the network's: staff, or our own fraud rules."""
    return actor.startswith(("staff:", "network", "fraud", "rules"))
