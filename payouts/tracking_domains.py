"""Verifying a custom tracking domain (affiliates.tracking_domains) on an advertiser's or
publisher's request: the fetch of its well-known token goes through the publisher-postback
client (payouts.callbacks.client), because the host is theirs to choose. A bare fetch would be a
request forgery from inside the network (the metadata service, Redis on loopback, the LAN);
the client vets every address the name resolves to and connects to a vetted one itself."""

from __future__ import annotations

from affiliates.tracking_domains import FETCH_TIMEOUT_SECONDS, TrackingDomain, tracking_domain_verify
from payouts.callbacks.client import send


def _fetch(url: str) -> str:
    outcome = send(method="GET", url=url, timeout=FETCH_TIMEOUT_SECONDS)
    if not outcome.ok:
        raise OSError(outcome.error or f"HTTP {outcome.status_code}")
    return outcome.excerpt


def tracking_domain_check_now(*, domain: TrackingDomain) -> TrackingDomain:
    """Verify ``domain`` now (DomainError ``domain_unverified`` saying why when it does not
    answer its token)."""
    return tracking_domain_verify(domain=domain, fetch=_fetch)
