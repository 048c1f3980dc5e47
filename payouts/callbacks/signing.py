"""How webhook deliveries are signed (documented for receivers in the OpenAPI schema).

Headers on every webhook POST:

- ``X-Affnet-Webhook-Id``: the delivery's id; the same on every retry and re-send, so a receiver
  can drop duplicates.
- ``X-Affnet-Webhook-Event``: e.g. ``commission.approved``.
- ``X-Affnet-Webhook-Timestamp``: unix seconds when this attempt was signed.
- ``X-Affnet-Webhook-Signature``: ``v1=<hex>``, the HMAC-SHA256 with the subscription's secret of
  ``<timestamp>.<raw body>``. During the 24 h after a rotation there are two, comma-separated
  (new secret first): accept the request when any matches.

A receiver recomputes the HMAC over the timestamp header, a dot and the raw body, compares in
constant time, and refuses timestamps more than 5 minutes old (replays).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

ID_HEADER = "X-Affnet-Webhook-Id"
EVENT_HEADER = "X-Affnet-Webhook-Event"
TIMESTAMP_HEADER = "X-Affnet-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Affnet-Webhook-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: str) -> str:
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    *, secrets: Sequence[str], delivery_id: int, event: str, timestamp: int, body: str
) -> dict[str, str]:
    return {
        ID_HEADER: str(delivery_id),
        EVENT_HEADER: event,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: ",".join(f"v1={signature(s, timestamp, body)}" for s in secrets),
    }


def signature_valid(*, secret: str, header: str, timestamp: str, body: str, now: int) -> bool:
    """What a receiver does; used by the tests' receiver, and handy for integrators' examples."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, ts, body)
    given = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    return any(hmac.compare_digest(expected, g) for g in given)
