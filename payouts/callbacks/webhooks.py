"""Webhooks for integrators: subscriptions, and the events owed to them.

An event is owed to each active subscription that asked for it and may see it: the network's
get every event, an advertiser's its own offers' events, a publisher's its own. Each is a
``CallbackDelivery`` (key ``wh:<subscription>:<event>:<object>``, unique, so an event fired
twice is owed once), delivered by the postbacks' worker: signed JSON, vetted addresses,
retries with backoff for 24 h, the attempt log and re-send (``payouts.callbacks.services``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from affiliates.models import Advertiser, Publisher
from payouts.callbacks import dispatch, payloads
from payouts.callbacks.services import deliveries_owe, webhook_test_send
from payouts.callbacks.templates import validate_callback_url
from payouts.models import Commission, Document, Payout
from payouts.models.callbacks import DELIVERY_WINDOW, CallbackAttempt, CallbackDelivery
from payouts.models.webhooks import (
    EVENTS_FOR_OWNER,
    ROTATION_GRACE,
    WebhookEvent,
    WebhookSubscription,
    new_webhook_secret,
)
from tracking.models import Click

Owner = WebhookSubscription.Owner
CLICK_SCAN_LIMIT = 5000
CHUNK = 2000
EDITABLE = ("name", "url", "events", "is_active")


# --- subscriptions -------------------------------------------------------------------------


def _subscription_clean(sub: WebhookSubscription) -> None:
    errors: dict[str, list[str]] = {}
    try:
        validate_callback_url(sub.url)
        if "{" in sub.url:
            errors["url"] = ["Webhook URLs take no macros: the event is in the JSON body."]
    except ValidationError as exc:
        errors["url"] = exc.messages
    allowed = EVENTS_FOR_OWNER[sub.owner]
    events = list(dict.fromkeys(sub.events or []))
    if not events:
        errors["events"] = ["Choose at least one event."]
    elif bad := [e for e in events if e not in allowed]:
        errors["events"] = [
            f"Not available to a{'n' if sub.owner[0] in 'a' else ''} {sub.owner}: {', '.join(bad)}."
        ]
    sub.events = events
    if errors:
        raise ValidationError(errors)


def webhook_subscription_create(
    *,
    owner: str,
    url: str,
    events: Sequence[str],
    advertiser: Advertiser | None = None,
    publisher: Publisher | None = None,
    name: str = "",
    is_active: bool = True,
    by: Any = None,
) -> WebhookSubscription:
    """A new subscription; its ``secret`` is readable on the returned object this once."""
    sub = WebhookSubscription(
        owner=owner,
        advertiser=advertiser,
        publisher=publisher,
        name=name,
        url=url,
        events=list(events),
        is_active=is_active,
        created_by=by if getattr(by, "pk", None) else None,
        clicks_seen_until=timezone.now(),  # clicks from now on, not the whole history
    )
    _subscription_clean(sub)
    sub.save()
    return sub


def webhook_subscription_update(*, subscription: WebhookSubscription, **changes: Any) -> WebhookSubscription:
    for name, value in changes.items():
        if name not in EDITABLE:
            raise ValueError(f"{name} cannot be changed")
        setattr(subscription, name, value)
    _subscription_clean(subscription)
    subscription.save()
    return subscription


@transaction.atomic
def webhook_secret_rotate(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """A new secret; the old one still signs (second signature) for 24 h. Returns the row, whose
    ``secret`` is the new one, shown this once."""
    sub = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    sub.previous_secret = sub.secret
    sub.previous_secret_until = timezone.now() + ROTATION_GRACE
    sub.secret = new_webhook_secret()
    sub.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return sub


def webhook_test(*, subscription: WebhookSubscription) -> CallbackAttempt:
    """Send a signed ``test`` event now, once; logged like every delivery."""
    body = _envelope(
        "test", "test.ping", {"message": "A test event from your affiliate network."}, timezone.now()
    )
    return webhook_test_send(subscription=subscription, body=body)


# --- owing events --------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One object an event is about, with the tenants it belongs to and its payload per owner."""

    object_id: str
    advertiser_id: int | None
    publisher_id: int | None
    offer_id: int | None
    payload: Callable[[str], dict[str, Any]]


def _envelope(event: str, action: str, data: dict[str, Any], at: datetime) -> str:
    return json.dumps(
        {"id": uuid.uuid4().hex, "event": event, "type": action, "created_at": at.isoformat(), "data": data},
        sort_keys=True,
        separators=(",", ":"),
    )


def _sees(sub: WebhookSubscription, item: Item) -> bool:
    if sub.owner == Owner.ADVERTISER:
        return item.advertiser_id is not None and item.advertiser_id == sub.advertiser_id
    if sub.owner == Owner.PUBLISHER:
        return item.publisher_id is not None and item.publisher_id == sub.publisher_id
    return True


def _subscribers(event: str) -> list[WebhookSubscription]:
    # Few rows (one per integration): filtered here, as JSON containment differs by database.
    return [s for s in WebhookSubscription.objects.filter(is_active=True) if event in s.events]


def _delivery(
    sub: WebhookSubscription, event: str, action: str, item: Item, at: datetime
) -> CallbackDelivery:
    return CallbackDelivery(
        key=f"wh:{sub.pk}:{action}:{item.object_id}"[:128],
        subscription=sub,
        offer_id=item.offer_id,
        event=action,
        method="POST",
        url=sub.url,
        body=_envelope(event, action, item.payload(sub.owner), at),
        next_attempt_at=at,
        give_up_at=at + DELIVERY_WINDOW,
        created_at=at,
    )


def webhooks_fire(
    *, event: str, action: str, items: Iterable[Item], subscriptions: list[WebhookSubscription] | None = None
) -> int:
    """Owe ``event`` (e.g. commission, as commission.approved) to every subscriber that may see
    each item; sent once the caller's transaction commits. Returns how many were new."""
    subs = _subscribers(event) if subscriptions is None else subscriptions
    if not subs:
        return 0
    at = timezone.now()
    owed = [_delivery(sub, event, action, item, at) for item in items for sub in subs if _sees(sub, item)]
    ids = deliveries_owe(owed, fired_at=at)
    dispatch.deliveries_enqueue_on_commit(delivery_ids=ids)
    return len(ids)


def _commission_item(c: Commission) -> Item:
    return Item(
        str(c.pk), c.advertiser_id, c.publisher_id, c.offer_id, lambda o: payloads.commission_payload(c, o)
    )


def _conversion_item(c: Commission) -> Item:
    """The commission's conversion; its tenants are the commission's (always set)."""
    conversion = c.conversion
    assert conversion is not None
    return Item(
        f"{conversion.pk}:{conversion.status}",
        c.advertiser_id,
        c.publisher_id,
        c.offer_id,
        lambda o: payloads.conversion_payload(conversion, o),
    )


def webhooks_commissions_changed(*, event: str, commission_ids: Sequence[int]) -> int:
    """Commission events (created, approved, rejected, reversed), and the conversion events they
    mean: a conversion commission created is its conversion created; a status change, changed."""
    active = list(WebhookSubscription.objects.filter(is_active=True))  # one query when nobody listens
    if not active:
        return 0
    conversion_event = (
        WebhookEvent.CONVERSION_CREATED if event == "created" else WebhookEvent.CONVERSION_STATUS_CHANGED
    )
    ids = sorted(set(commission_ids))
    count = 0
    for start in range(0, len(ids), CHUNK):  # reconciliation announces thousands at once
        count += _commissions_fire(event, conversion_event, active, ids[start : start + CHUNK])
    return count


def _commissions_fire(
    event: str, conversion_event: str, active: list[WebhookSubscription], ids: list[int]
) -> int:
    commissions = list(Commission.objects.filter(pk__in=ids).select_related("goal", "conversion__goal"))
    count = webhooks_fire(
        event=WebhookEvent.COMMISSION,
        action=f"commission.{event}",
        items=map(_commission_item, commissions),
        subscriptions=[s for s in active if WebhookEvent.COMMISSION in s.events],
    )
    return count + webhooks_fire(
        event=conversion_event,
        action=str(conversion_event),
        items=map(_conversion_item, [c for c in commissions if c.conversion is not None]),
        subscriptions=[s for s in active if conversion_event in s.events],
    )


def webhooks_payouts(*, action: str, payouts: Iterable[Payout]) -> int:
    items = [
        Item(str(p.pk), None, p.publisher_id, None, lambda o, p=p: payloads.payout_payload(p, o))  # type: ignore[misc]
        for p in payouts
    ]
    return webhooks_fire(event=WebhookEvent.PAYOUT, action=f"payout.{action}", items=items)


def webhooks_invoice_issued(*, document: Document) -> int:
    item = Item(
        str(document.pk), document.advertiser_id, None, None, lambda o: payloads.invoice_payload(document, o)
    )
    return webhooks_fire(event=WebhookEvent.INVOICE, action="invoice.issued", items=[item])


def _click_item(click: Click) -> Item:
    return Item(
        click.id.hex,
        click.offer.advertiser_id,
        click.publisher_id,
        click.offer_id,
        lambda o: payloads.click_payload(click, o),
    )


@transaction.atomic
def webhooks_clicks_scan(*, now: datetime | None = None, settle: timedelta = timedelta(seconds=30)) -> int:
    """Owe click events for clicks written since each subscription's last scan (beat, every
    minute). Clicks land in bulk from the consumer, a little after they happen: the scan stops
    ``settle`` before now so a late batch is not skipped."""
    until = (now or timezone.now()) - settle
    owed = 0
    for sub in WebhookSubscription.objects.select_for_update(skip_locked=True).filter(is_active=True):
        if WebhookEvent.CLICK not in sub.events:
            continue
        since = sub.clicks_seen_until or until
        # gte: clicks sharing the boundary's timestamp are owed once anyway (unique keys).
        clicks = Click.objects.filter(created_at__gte=since, created_at__lte=until).select_related("offer")
        if sub.owner == Owner.ADVERTISER:
            clicks = clicks.filter(offer__advertiser_id=sub.advertiser_id or 0)
        elif sub.owner == Owner.PUBLISHER:
            clicks = clicks.filter(publisher_id=sub.publisher_id or 0)
        batch = list(clicks.order_by("created_at")[:CLICK_SCAN_LIMIT])
        owed += webhooks_fire(
            event=WebhookEvent.CLICK,
            action="click.recorded",
            items=map(_click_item, batch),
            subscriptions=[sub],
        )
        # A full batch: resume after its last click next time, not at ``until``.
        seen = batch[-1].created_at if len(batch) == CLICK_SCAN_LIMIT else until
        WebhookSubscription.objects.filter(pk=sub.pk).update(clicks_seen_until=seen)
    return owed
