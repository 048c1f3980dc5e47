"""Send callback deliveries to the worker, once the caller's transaction has committed.

The services that owe deliveries and the tasks that run them both depend on this module and never
on each other: deliveries are sent by task name, and ``payouts.callbacks.tasks`` registers the
tasks under these names (``PayoutsConfig.ready`` imports it, so eager runs find them too).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from celery import current_app
from django.db import transaction

DELIVER_TASK = "payouts.callbacks.deliver"
RETRY_DUE_TASK = "payouts.callbacks.retry_due"


def deliveries_enqueue(*, delivery_ids: Iterable[int]) -> None:
    """Send each delivery to the worker now."""
    for delivery_id in delivery_ids:
        current_app.signature(DELIVER_TASK, args=(delivery_id,)).delay()


def deliveries_enqueue_on_commit(*, delivery_ids: Iterable[int]) -> None:
    """Send them once the caller's transaction commits: a rolled-back delivery is never sent.

    If the broker is down then, nothing is lost: the deliveries are due at once, and the periodic
    retry task picks them up.
    """
    ids = list(delivery_ids)
    if ids:
        transaction.on_commit(partial(deliveries_enqueue, delivery_ids=ids), robust=True)
