"""Commission events for the rest of the product (publisher postbacks, notifications).

Every place that creates, approves, rejects or reverses commissions calls ``commissions_changed``
through ``transaction.on_commit``, so listeners only ever hear about committed money. Listeners
connect to the ``commission_event`` signal; they must not write to the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from payouts.callbacks.services import callbacks_fire
from payouts.callbacks.webhooks import webhooks_commissions_changed
from payouts.notices import conversions_reversed

log = logging.getLogger(__name__)

CREATED = "created"
APPROVED = "approved"
REJECTED = "rejected"
REVERSED = "reversed"

# Sent with event=<one of the above>, commission_ids=list[int].
commission_event = Signal()

# Publisher postbacks know three events (contract section 5); a rejection takes money back
# from the publisher just as a reversal does, so it is announced as "reversed" (the {status}
# macro still says "rejected").
CALLBACK_EVENT = {CREATED: "created", APPROVED: "approved", REJECTED: "reversed", REVERSED: "reversed"}


def commissions_changed(*, event: str, commission_ids: list[int]) -> None:
    if not commission_ids:
        return
    log.info("commissions %s: %d", event, len(commission_ids))
    callbacks_fire(commission_ids=commission_ids, event=CALLBACK_EVENT[event])
    webhooks_commissions_changed(event=event, commission_ids=commission_ids)
    if event == REVERSED:
        conversions_reversed(commission_ids=commission_ids)
    commission_event.send(sender=None, event=event, commission_ids=commission_ids)


def commissions_changed_on_commit(*, event: str, commission_ids: Iterable[int]) -> None:
    ids = list(commission_ids)
    if ids:
        # robust: the money is committed whatever a listener does; a failure here is logged.
        transaction.on_commit(lambda: commissions_changed(event=event, commission_ids=ids), robust=True)


def event_for_status(status: str) -> str | None:
    return {"approved": APPROVED, "rejected": REJECTED, "reversed": REVERSED}.get(status)
