"""Publisher postbacks: settings, firing, delivery attempts, re-send and test fire.

Other parts of the product call ``callbacks_fire`` after a commission is created, approved or
reversed. It records what is owed and enqueues delivery on commit; the HTTP call happens in a
Celery worker, never inside the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from affiliates.core.errors import Conflict
from affiliates.core.money import money_round
from affiliates.models import Goal, Offer, Publisher
from payouts.callbacks import client, dispatch, signing
from payouts.callbacks.retries import retry_delay
from payouts.callbacks.selectors import endpoint_index
from payouts.callbacks.templates import form_body, render_callback_url, validate_callback_url
from payouts.models.callbacks import (
    DELIVERY_WINDOW,
    CallbackAttempt,
    CallbackDelivery,
    CallbackEndpoint,
    CallbackEvent,
)
from payouts.models.commissions import Commission
from payouts.models.webhooks import WebhookSubscription
from payouts.notices import postback_failing
from tracking.ids import new_click_id

FIRE_EVENTS = ("created", "approved", "reversed")
_CHUNK = 2000
# A claimed delivery is not due again for this long: longer than one attempt can take, so a
# duplicate task message cannot start a second try, short enough that a worker killed
# mid-attempt delays the delivery by about a minute only.
CLAIM_LEASE = timedelta(seconds=60)

Status = CallbackDelivery.Status
Trigger = CallbackAttempt.Trigger


# --- settings ------------------------------------------------------------------------------


def _endpoint_clean(endpoint: CallbackEndpoint) -> None:
    """The model's own checks, and the URL template's: all errors at once, by field."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        endpoint.full_clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        validate_callback_url(endpoint.url)
    except ValidationError as exc:
        errors.setdefault("url", []).extend(exc.error_list)
    if errors:
        raise ValidationError(errors)


def _endpoint_save(endpoint: CallbackEndpoint) -> CallbackEndpoint:
    if endpoint.goal_id is not None:
        goal_offer_id = Goal.objects.values_list("offer_id", flat=True).get(pk=endpoint.goal_id)
        if endpoint.offer_id is None:
            endpoint.offer_id = goal_offer_id
        elif endpoint.offer_id != goal_offer_id:
            raise ValidationError({"goal": ["This goal belongs to another offer."]}, code="goal_not_in_offer")
    _endpoint_clean(endpoint)
    try:
        with transaction.atomic():
            endpoint.save()
    except IntegrityError as exc:  # two requests racing past full_clean's uniqueness check
        raise Conflict("This publisher already has a postback for that scope.", code="duplicate") from exc
    return endpoint


def _apply_events(endpoint: CallbackEndpoint, events: Iterable[str]) -> None:
    chosen = set(events)
    for event in FIRE_EVENTS:
        setattr(endpoint, f"on_{event}", event in chosen)


def callback_endpoint_create(
    *,
    publisher: Publisher,
    url: str,
    method: str = CallbackEndpoint.Method.GET,
    offer: Offer | None = None,
    goal: Goal | None = None,
    events: Sequence[str] = ("created",),
    is_active: bool = True,
) -> CallbackEndpoint:
    endpoint = CallbackEndpoint(
        publisher=publisher, url=url, method=method, offer=offer, goal=goal, is_active=is_active
    )
    _apply_events(endpoint, events)
    return _endpoint_save(endpoint)


def callback_endpoint_update(*, endpoint: CallbackEndpoint, **changes: Any) -> CallbackEndpoint:
    events = changes.pop("events", None)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if events is not None:
        _apply_events(endpoint, events)
    return _endpoint_save(endpoint)


# --- firing --------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_time(commission: Commission, event: str, fired_at: datetime) -> datetime:
    if event == "approved":
        return commission.approved_at or fired_at
    if event == "reversed":
        return commission.reversed_at or fired_at
    return commission.created_at


def macro_values(commission: Commission, *, event: str, fired_at: datetime) -> dict[str, str]:
    """The contract's macros for one conversion commission, as the strings we send."""
    conversion = commission.conversion
    assert conversion is not None  # only conversion commissions fire
    return {
        "click_id": conversion.click_id.hex if conversion.click_id else "",
        **{f"sub{i}": getattr(conversion, f"sub{i}") for i in range(1, 6)},
        "source": conversion.source_id,
        "offer_id": str(commission.offer_id),
        "goal": commission.goal.code,
        "conversion_id": str(conversion.pk),
        "payout": str(money_round(commission.payout, commission.currency)),
        "currency": commission.currency,
        "status": commission.status,
        "event_time": _iso(_event_time(commission, event, fired_at)),
    }


def _delivery_for(
    endpoint: CallbackEndpoint, commission: Commission, *, event: str, fired_at: datetime
) -> CallbackDelivery:
    values = macro_values(commission, event=event, fired_at=fired_at)
    return CallbackDelivery(
        key=f"{endpoint.pk}:{commission.pk}:{event}",
        endpoint=endpoint,
        publisher_id=commission.publisher_id,
        offer_id=commission.offer_id,
        commission=commission,
        event=event,
        method=endpoint.method,
        url=render_callback_url(endpoint.url, values),
        body=form_body(values) if endpoint.method == CallbackEndpoint.Method.POST else "",
        next_attempt_at=fired_at,
        give_up_at=fired_at + DELIVERY_WINDOW,
        created_at=fired_at,
    )


def _fire_chunk(
    commission_ids: Sequence[int], event: str, fired_at: datetime, with_callbacks: set[int]
) -> list[int]:
    # CPC/CPM daily lines have no conversion, hence no click or sub ids to report: they never fire.
    # Most publishers have no postback: skip loading their commissions at all.
    commissions = list(
        Commission.objects.filter(
            pk__in_ids=commission_ids,
            kind=Commission.Kind.CONVERSION,
            publisher_id__in_ids=with_callbacks,
        ).select_related("conversion", "goal")
    )
    index = endpoint_index(c.publisher_id for c in commissions)
    owed = []
    for commission in commissions:
        endpoint = index.most_specific(
            publisher_id=commission.publisher_id, offer_id=commission.offer_id, goal_id=commission.goal_id
        )
        if endpoint is not None and endpoint.fires_on(event):
            owed.append(_delivery_for(endpoint, commission, event=event, fired_at=fired_at))
    return deliveries_owe(owed, fired_at=fired_at)


def deliveries_owe(owed: Sequence[CallbackDelivery], *, fired_at: datetime) -> list[int]:
    """Insert the deliveries not owed yet (unique ``key``); the ids of those this call added.

    Shared by postbacks and webhooks. The caller enqueues the ids on commit."""
    if not owed:
        return []
    CallbackDelivery.objects.bulk_create(owed, ignore_conflicts=True, batch_size=500)
    # ignore_conflicts returns no ids. Rows this call inserted carry its exact timestamp; rows
    # an earlier fire inserted (the duplicates skipped) carry theirs, and are not enqueued again.
    keys = [d.key for d in owed]
    ids: list[int] = []
    for start in range(0, len(keys), _CHUNK):
        rows = CallbackDelivery.objects.filter(key__in=keys[start : start + _CHUNK], created_at=fired_at)
        ids.extend(rows.values_list("id", flat=True))
    return ids


@transaction.atomic
def callbacks_fire(*, commission_ids: list[int], event: str) -> int:
    """Owe each commission's publisher a postback for ``event``; returns how many were new.

    Idempotent: a (endpoint, commission, event) is owed once, however often this is called.
    Deliveries are enqueued after the caller's transaction commits; if the broker is down the
    periodic ``callbacks_retry_due`` task picks them up, since they are due at once.
    """
    if event not in FIRE_EVENTS:
        raise ValueError(f"event must be one of {FIRE_EVENTS}, not {event!r}")
    fired_at = timezone.now()
    new_ids: list[int] = []
    # The publishers with an endpoint, as a list of ids rather than a subquery: against the
    # subquery the planner scanned the whole commission table for each chunk (a reconciliation
    # batch's 5,000 commissions took three such scans); with no endpoint at all there is
    # nothing to load.
    with_callbacks = set(
        CallbackEndpoint.objects.filter(is_active=True).values_list("publisher_id", flat=True)
    )
    ids = sorted(set(commission_ids)) if with_callbacks else []
    for start in range(0, len(ids), _CHUNK):
        new_ids.extend(_fire_chunk(ids[start : start + _CHUNK], event, fired_at, with_callbacks))
    dispatch.deliveries_enqueue_on_commit(delivery_ids=new_ids)
    return len(new_ids)


def deliveries_due_enqueue(*, limit: int = 1000) -> int:
    """Enqueue deliveries whose retry time has come (and any a dead worker left claimed)."""
    due = list(
        CallbackDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    dispatch.deliveries_enqueue(delivery_ids=due)
    return len(due)


# --- delivering ----------------------------------------------------------------------------


def _next_state(delivery: CallbackDelivery, outcome: client.Outcome, now: datetime) -> dict[str, Any]:
    """Where an automatic attempt leaves the delivery: delivered, retrying, or given up."""
    if outcome.ok:
        return {"status": Status.DELIVERED, "delivered_at": now, "next_attempt_at": None}
    if outcome.retryable:
        next_at = now + retry_delay(delivery.attempts_count + 1)
        if next_at <= delivery.give_up_at:
            return {"next_attempt_at": next_at}
    return {"status": Status.FAILED, "given_up_at": now, "next_attempt_at": None}


@transaction.atomic
def _record(
    delivery: CallbackDelivery, outcome: client.Outcome, *, trigger: str, started: datetime
) -> CallbackAttempt:
    attempt = CallbackAttempt.objects.create(
        delivery=delivery,
        created_at=started,
        trigger=trigger,
        method=delivery.method,
        url=delivery.url,
        ip=outcome.ip,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        response_excerpt=outcome.excerpt,
        error_code=outcome.error_code,
        error=outcome.error,
        ok=outcome.ok,
    )
    now = timezone.now()
    rows = CallbackDelivery.objects.filter(pk=delivery.pk)
    rows.update(
        attempts_count=F("attempts_count") + 1,
        last_status_code=outcome.status_code,
        last_error=outcome.error,
    )
    if outcome.ok:
        rows.update(status=Status.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif trigger == Trigger.AUTO:
        # Guarded: a manual re-send that succeeded meanwhile must not be put back to pending.
        rows.filter(status=Status.PENDING).update(**_next_state(delivery, outcome, now))
    elif trigger == Trigger.TEST:
        rows.update(status=Status.FAILED, given_up_at=now, next_attempt_at=None)
    # A failed manual re-send leaves the delivery's own state and schedule as they were.
    delivery.refresh_from_db()
    if trigger == Trigger.AUTO and delivery.status == Status.FAILED:
        postback_failing(delivery=delivery)
    return attempt


def _send(delivery: CallbackDelivery) -> client.Outcome:
    subscription = delivery.subscription
    if subscription is None:
        return client.send(method=delivery.method, url=delivery.url, body=delivery.body)
    # Signed at each attempt, with the secret(s) in force now: a re-send after a rotation
    # verifies with the new secret, and the timestamp is fresh for the receiver's replay check.
    now = timezone.now()
    headers = signing.signed_headers(
        secrets=subscription.signing_secrets(at=now),
        delivery_id=delivery.pk,
        event=delivery.event,
        timestamp=int(now.timestamp()),
        body=delivery.body,
    )
    return client.send(
        method="POST",
        url=delivery.url,
        body=delivery.body,
        content_type="application/json",
        extra_headers=headers,
    )


def _give_up(delivery_id: int, now: datetime, reason: str) -> None:
    CallbackDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).update(
        status=Status.FAILED, given_up_at=now, next_attempt_at=None, last_error=reason[:255]
    )


def delivery_attempt(*, delivery_id: int) -> CallbackAttempt | None:
    """One automatic attempt, if the delivery is due; None when there was nothing to do."""
    now = timezone.now()
    claimed = CallbackDelivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + CLAIM_LEASE)
    if not claimed:
        return None  # delivered, given up, not yet due, or another worker holds it
    delivery = CallbackDelivery.objects.select_related("endpoint", "subscription").get(pk=delivery_id)
    if delivery.subscription is not None:
        if not delivery.subscription.is_active:
            _give_up(delivery_id, now, "The webhook subscription was deactivated.")
            return None
    elif delivery.endpoint is None or not delivery.endpoint.is_active:
        # The publisher removed or switched off this postback: stop retrying it, visibly.
        _give_up(delivery_id, now, "The postback setting was deleted or deactivated.")
        return None
    if delivery.attempts_count and now >= delivery.give_up_at:
        _give_up(delivery_id, now, delivery.last_error)
        return None
    return _record(delivery, _send(delivery), trigger=Trigger.AUTO, started=now)


def delivery_resend(*, delivery: CallbackDelivery) -> CallbackAttempt:
    """A manual attempt now, whatever the delivery's state; the address is vetted again."""
    started = timezone.now()
    return _record(delivery, _send(delivery), trigger=Trigger.RESEND, started=started)


def sample_values(endpoint: CallbackEndpoint, *, at: datetime) -> dict[str, str]:
    goal = endpoint.goal or (
        Goal.objects.filter(offer_id=endpoint.offer_id, is_default=True).first()
        if endpoint.offer_id
        else None
    )
    return {
        "click_id": new_click_id().hex,
        **{f"sub{i}": f"test_sub{i}" for i in range(1, 6)},
        "source": "test_source",
        "offer_id": str(endpoint.offer_id or 0),
        "goal": goal.code if goal else "test",
        "conversion_id": "0",
        "payout": "1.00",
        "currency": endpoint.publisher.payout_currency or "USD",
        "status": "approved",
        "event_time": _iso(at),
    }


def _test_delivery(endpoint: CallbackEndpoint, *, now: datetime, due: datetime | None) -> CallbackDelivery:
    """A ``test`` delivery rendered with sample values; ``give_up_at`` is now, so it is tried once."""
    values = sample_values(endpoint, at=now)
    return CallbackDelivery.objects.create(
        key=f"test:{endpoint.pk}:{uuid.uuid4().hex}",
        endpoint=endpoint,
        publisher_id=endpoint.publisher_id,
        offer_id=endpoint.offer_id,
        event=CallbackEvent.TEST,
        method=endpoint.method,
        url=render_callback_url(endpoint.url, values),
        body=form_body(values) if endpoint.method == CallbackEndpoint.Method.POST else "",
        next_attempt_at=due,
        give_up_at=now,
        created_at=now,
    )


def endpoint_test_fire(*, endpoint: CallbackEndpoint) -> CallbackAttempt:
    """Render with sample values and deliver once, now; logged as a ``test`` delivery."""
    now = timezone.now()
    delivery = _test_delivery(endpoint, now=now, due=None)
    return _record(delivery, _send(delivery), trigger=Trigger.TEST, started=now)


def endpoint_test_enqueue(*, endpoint: CallbackEndpoint) -> CallbackDelivery:
    """Owe one ``test`` delivery rendered with sample values, sent by the delivery worker.

    Unlike ``endpoint_test_fire`` (the API's synchronous answer), nothing is sent inside the
    caller's request: the delivery is due now and goes through the same Celery task as a real
    postback, so the address is vetted when the worker connects and the attempt is logged like
    any other. It is tried once, so a failed test is never retried.
    """
    now = timezone.now()
    delivery = _test_delivery(endpoint, now=now, due=now)
    dispatch.deliveries_enqueue_on_commit(delivery_ids=[delivery.pk])
    return delivery


def webhook_test_send(*, subscription: WebhookSubscription, body: str) -> CallbackAttempt:
    """A signed ``test`` delivery of ``body`` to the subscription, sent once, now."""
    now = timezone.now()
    delivery = CallbackDelivery.objects.create(
        key=f"wh:test:{subscription.pk}:{uuid.uuid4().hex}",
        subscription=subscription,
        event=CallbackEvent.TEST,
        method="POST",
        url=subscription.url,
        body=body,
        next_attempt_at=None,
        give_up_at=now,
        created_at=now,
    )
    delivery.subscription = subscription
    return _record(delivery, _send(delivery), trigger=Trigger.TEST, started=now)
