"""Cached reads of what a postback needs besides the click: advertiser, offer, goals, caps,
the publisher's standing and custom payouts.

Cached per process for settings.CONVERSION_CATALOG_TTL_SECONDS (a few seconds): the postback
path then costs one click lookup and one insert, and an edit (offer paused, access revoked,
token rotated) still takes effect within seconds. Cap *counters* are never cached. On the ASGI
edge's event loop a miss is loaded in a thread (offload.py), a hit is a dict lookup.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings

from affiliates.models import (
    Advertiser,
    Cap,
    Coupon,
    CustomPayout,
    Goal,
    Offer,
    OfferAccess,
    Publisher,
    token_digest,
)
from tracking.conversions.offload import blocking_io, catalog_miss

T = TypeVar("T")
_cache: dict[tuple[str, object], tuple[float, object]] = {}
_MISSING = object()


def catalog_clear() -> None:
    """Forget everything (tests, and after bulk edits in the same process)."""
    _cache.clear()


def _cached(kind: str, key: object, load: Callable[[], T]) -> T:
    now = time.monotonic()
    hit = _cache.get((kind, key))
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[return-value]
    ttl = settings.CONVERSION_CATALOG_TTL_SECONDS
    if ttl > 0:
        # On the event loop: load it in a thread, then decide again (offload.py).
        catalog_miss((kind, key), lambda: _cached(kind, key, load))
    else:
        blocking_io(kind)  # no cache to fill: the whole postback goes to a thread
    value = load()
    if ttl > 0:
        if len(_cache) > 50_000:  # a crude bound: a flood of random tokens must not grow memory
            _cache.clear()
        _cache[(kind, key)] = (now + ttl, value)
    return value


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AdvertiserInfo:
    id: int
    status: str
    token_digest: str
    hmac_secret: str
    allowlist: tuple[IPNetwork, ...]
    customer_key: str = ""

    def ip_allowed(self, ip: str) -> bool:
        if not self.allowlist:
            return True
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self.allowlist)

    def digest_matches(self, digest: str) -> bool:
        """The stored digest is this one, compared in constant time."""
        return hmac.compare_digest(digest, self.token_digest)


def _advertiser_info(adv: Advertiser) -> AdvertiserInfo:
    nets = tuple(ipaddress.ip_network(p, strict=False) for p in adv.ip_allowlist or [])
    return AdvertiserInfo(
        adv.id, adv.status, adv.postback_token_digest, adv.hmac_secret, nets, adv.customer_key
    )


def advertiser_by_token(token: str) -> AdvertiserInfo | None:
    """The advertiser whose postback token this is. Looked up by the token's SHA-256 digest (we
    never store the token), then compared in constant time."""
    digest = token_digest(token)

    def load() -> AdvertiserInfo | None:
        adv = Advertiser.objects.filter(postback_token_digest=digest).first()
        return _advertiser_info(adv) if adv else None

    info = _cached("adv_token", digest, load)
    # Hashed once: the digest is the cache key and what the stored one is compared with.
    return info if info is not None and info.digest_matches(digest) else None


def advertiser_by_id(advertiser_id: int) -> AdvertiserInfo | None:
    def load() -> AdvertiserInfo | None:
        adv = Advertiser.objects.filter(pk=advertiser_id).first()
        return _advertiser_info(adv) if adv else None

    return _cached("adv_id", advertiser_id, load)


@dataclass(frozen=True)
class OfferInfo:
    offer: Offer
    goals: dict[str, Goal]
    default_goal: Goal | None
    caps: tuple[Cap, ...]

    @property
    def advertiser_id(self) -> int:
        return self.offer.advertiser_id


def offer_info(offer_id: int) -> OfferInfo | None:
    def load() -> OfferInfo | None:
        offer = Offer.objects.filter(pk=offer_id).first()
        if offer is None:
            return None
        goals = {g.code: g for g in Goal.objects.filter(offer_id=offer_id)}
        default = next((g for g in goals.values() if g.is_default), None)
        caps = tuple(Cap.objects.filter(offer_id=offer_id).exclude(metric=Cap.Metric.CLICKS).order_by("id"))
        return OfferInfo(offer, goals, default, caps)

    return _cached("offer", offer_id, load)


@dataclass(frozen=True)
class Standing:
    """Whether a publisher may still earn on an offer, and its custom payouts there."""

    approved: bool
    why: str
    customs: tuple[CustomPayout, ...]


def publisher_standing(*, offer: Offer, publisher_id: int, via_fallback: bool = False) -> Standing:
    """Whether the publisher earns on ``offer``, and why.

    ``via_fallback``: the network sent the publisher's click here because the link's own offer
    refused it (paused, expired, targeting, a cap). The network chose the offer, so the
    publisher earns on it as if approved, at its prices (custom payouts included), unless its
    access there was rejected (the click path never sends such traffic there) or the publisher
    is not active.
    """

    def load() -> Standing:
        pub_status = Publisher.objects.filter(pk=publisher_id).values_list("status", flat=True).first()
        access = (
            OfferAccess.objects.filter(offer_id=offer.id, publisher_id=publisher_id)
            .values_list("status", flat=True)
            .first()
        )
        customs = tuple(CustomPayout.objects.filter(offer_id=offer.id, publisher_id=publisher_id))
        if pub_status != Publisher.Status.ACTIVE:
            return Standing(False, f"publisher is {pub_status or 'unknown'}", customs)
        if access == OfferAccess.Status.APPROVED:
            return Standing(True, "access approved", customs)
        if via_fallback and access != OfferAccess.Status.REJECTED:
            return Standing(True, "fallback traffic: the network sent the click here", customs)
        # A public offer needs no application; without an access row the publisher may earn.
        if access is None and offer.visibility == Offer.Visibility.PUBLIC:
            return Standing(True, "public offer", customs)
        return Standing(False, f"access is {access or 'missing'}", customs)

    return _cached("standing", (offer.id, publisher_id, via_fallback), load)


def coupon_find(code: str) -> Coupon | None:
    """An active coupon by code, case-insensitively (shoppers type codes in any case)."""

    def load() -> Coupon | None:
        return Coupon.objects.filter(code__iexact=code, active=True).first()

    return _cached("coupon", code.upper(), load)
