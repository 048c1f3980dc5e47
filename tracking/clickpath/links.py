"""Token -> link snapshot: everything a click needs to know, without touching the database.

A snapshot is built from the database once, stored in Redis (when configured) and kept in each
process for ``CLICK_LINK_CACHE_SECONDS``. Saving an offer, access, publisher, advertiser or cap
evicts the Redis copies of the tokens it affects (signal receivers below, so admin, API and
services are all covered); other processes drop their local copy when it expires, so an edit
takes effect everywhere within seconds. ``QuerySet.update()`` sends no signal: the short local
TTL and the Redis TTL bound that case too.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Model, Q
from django.db.models.signals import post_delete, post_save

from affiliates.models import Advertiser, Cap, Offer, OfferAccess, Publisher
from tracking.clickpath import redis_conn

log = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
REDIS_TTL_SECONDS = 300
MISSING_TTL_SECONDS = 30


@dataclass(frozen=True)
class CapRule:
    """One click cap as it applies to this link; ``per_publisher`` counts this publisher only."""

    period: str  # day, week, month
    limit: int
    per_publisher: bool


@dataclass(frozen=True)
class Target:
    """An offer a click can be sent to: the link's own offer or one of its fallback offers,
    with the targeting a fallback offer applies to the visitor it is offered."""

    offer_id: int
    landing_url: str
    attribution_window_days: int
    target_countries: tuple[str, ...] = ()
    target_devices: tuple[str, ...] = ()
    target_os: tuple[str, ...] = ()

    def accepts(self, *, country: str, device: str, os_name: str) -> bool:
        return (
            (not self.target_countries or country in self.target_countries)
            and (not self.target_devices or device in self.target_devices)
            and (not self.target_os or os_name in self.target_os)
        )


@dataclass(frozen=True)
class Link:
    token: str
    offer_id: int
    publisher_id: int
    access_approved: bool
    publisher_active: bool
    offer_status: str
    advertiser_active: bool
    starts_at: float | None  # unix seconds
    ends_at: float | None
    landing_url: str
    attribution_window_days: int
    deep_links_allowed: bool
    allowed_domains: tuple[str, ...]
    target_countries: tuple[str, ...]
    target_devices: tuple[str, ...]
    target_os: tuple[str, ...]
    unique_click_window_hours: int
    # The fallback offers in the order a refused click tries them (the offer's fallback, its
    # fallback's, ...): live, and not refused to this publisher, when the snapshot was built.
    fallback_chain: tuple[Target, ...]
    fallback_url: str
    caps: tuple[CapRule, ...] = field(default=())

    @cached_property
    def target(self) -> Target:
        # Cached on the snapshot (frozen, but cached_property writes its __dict__ directly):
        # every click asks for it, and building it was a microsecond each time.
        return Target(self.offer_id, self.landing_url, self.attribution_window_days)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Link:
        data: dict[str, Any] = json.loads(raw)
        for name in ("allowed_domains", "target_countries", "target_devices", "target_os"):
            data[name] = tuple(data[name])
        data["caps"] = tuple(CapRule(**c) for c in data["caps"])
        data["fallback_chain"] = tuple(_target_from(t) for t in data["fallback_chain"])
        return cls(**data)


def _target_from(data: dict[str, Any]) -> Target:
    for name in ("target_countries", "target_devices", "target_os"):
        data[name] = tuple(data[name])
    return Target(**data)


FALLBACK_DEPTH = 3  # how many fallback offers a refused click tries, at most


def _fallback_chain(offer: Offer, publisher_id: int) -> tuple[Target, ...]:
    """The offer's fallback offers, in order, as far as FALLBACK_DEPTH and without a loop,
    keeping those that are live and where this publisher's access is not rejected: the
    advertiser of a fallback offer who turned the publisher down does not get its traffic."""
    chain: list[Target] = []
    seen = {offer.pk}
    current = offer.fallback_offer
    while current is not None and current.pk not in seen and len(seen) <= FALLBACK_DEPTH:
        seen.add(current.pk)
        refused = OfferAccess.objects.filter(
            offer=current, publisher_id=publisher_id, status=OfferAccess.Status.REJECTED
        ).exists()
        if current.is_live() and not refused:
            chain.append(
                Target(
                    current.pk,
                    current.landing_url,
                    current.attribution_window_days,
                    tuple(current.target_countries or ()),
                    tuple(current.target_devices or ()),
                    tuple(current.target_os or ()),
                )
            )
        current = current.fallback_offer
    return tuple(chain)


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def _click_caps(offer: Offer, publisher_id: int) -> tuple[CapRule, ...]:
    """Offer-wide caps, plus this publisher's own cap per period, which overrides the
    each-publisher cap of the same period."""
    caps = list(Cap.objects.filter(offer=offer, metric=Cap.Metric.CLICKS))
    own = {c.period: c for c in caps if c.publisher_id == publisher_id}
    rules = [
        CapRule(c.period, int(c.limit), per_publisher=False)
        for c in caps
        if c.publisher_id is None and c.scope == Cap.Scope.OFFER
    ]
    for c in caps:
        if c.publisher_id is None and c.scope == Cap.Scope.EACH_PUBLISHER and c.period not in own:
            rules.append(CapRule(c.period, int(c.limit), per_publisher=True))
    rules.extend(CapRule(c.period, int(c.limit), per_publisher=True) for c in own.values())
    return tuple(rules)


def link_build(token: str) -> Link | None:
    """Read one link from the database (the slow path behind the caches)."""
    access = (
        OfferAccess.objects.select_related("offer__advertiser", "offer__fallback_offer", "publisher")
        .filter(token=token)
        .first()
    )
    if access is None:
        return None
    offer, publisher = access.offer, access.publisher
    return Link(
        token=token,
        offer_id=offer.pk,
        publisher_id=publisher.pk,
        access_approved=access.status == OfferAccess.Status.APPROVED,
        publisher_active=publisher.status == Publisher.Status.ACTIVE,
        offer_status=offer.status,
        advertiser_active=offer.advertiser.status == Advertiser.Status.ACTIVE,
        starts_at=_ts(offer.starts_at),
        ends_at=_ts(offer.ends_at),
        landing_url=offer.landing_url,
        attribution_window_days=offer.attribution_window_days,
        deep_links_allowed=offer.deep_links_allowed,
        allowed_domains=tuple(offer.allowed_domains or ()),
        target_countries=tuple(offer.target_countries or ()),
        target_devices=tuple(offer.target_devices or ()),
        target_os=tuple(offer.target_os or ()),
        unique_click_window_hours=offer.unique_click_window_hours,
        fallback_chain=_fallback_chain(offer, publisher.pk),
        fallback_url=offer.fallback_url,
        caps=_click_caps(offer, publisher.pk),
    )


# token -> (expires at, monotonic clock; snapshot or None for "no such token")
_local: dict[str, tuple[float, Link | None]] = {}
_local_lock = threading.Lock()
_LOCAL_MAX = 50_000


def _redis_key(token: str) -> str:
    # v2: snapshots carry the fallback chain; older ones (a rolling deploy) are simply missed.
    return redis_conn.key("link:v2", token)


def _from_redis(token: str) -> tuple[bool, Link | None]:
    """(found, link) from the shared cache; (False, None) on a miss or when Redis is down."""
    client = redis_conn.client()
    if client is None:
        return False, None
    try:
        raw = client.get(_redis_key(token))
    except redis_conn.WRITE_ERRORS as exc:  # the shared cache is only a cache
        redis_conn.write_failed(exc)
        return False, None
    if raw is None:
        return False, None
    return True, (None if raw == b"-" else Link.from_json(raw))


def _to_redis(token: str, link: Link | None) -> None:
    client = redis_conn.client()
    if client is None:
        return
    try:
        if link is None:
            client.set(_redis_key(token), "-", ex=MISSING_TTL_SECONDS)
        else:
            client.set(_redis_key(token), link.to_json(), ex=REDIS_TTL_SECONDS)
    except redis_conn.WRITE_ERRORS as exc:
        redis_conn.write_failed(exc)


class LinkUnavailable(Exception):
    """Neither a cache nor the database can say what this token is right now."""


MISS = object()  # link_cached: not in this process's cache (or expired)


def link_cached(token: str) -> Link | object | None:
    """The link from this process's cache without any I/O, None for a malformed or known-missing
    token, or MISS when only ``link_resolve`` (Redis, then the database) can say."""
    hit = _local.get(token)  # only well-formed tokens are ever cached: no need to match first
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    return MISS if TOKEN_RE.match(token) else None


def link_resolve(token: str) -> Link | None:
    """The link for a token, or None for an unknown or malformed one (the caller answers 404).

    Raises LinkUnavailable when the database is down and no copy is cached; a stale local copy
    is used before that, since a snapshot a minute old beats losing the click.
    """
    cached = link_cached(token)
    if cached is not MISS:
        return cached  # type: ignore[return-value]
    now = time.monotonic()
    hit = _local.get(token)  # expired, but the stale copy beats losing the click
    found, link = _from_redis(token)
    if not found:
        try:
            link = link_build(token)
        except DatabaseError as exc:
            if hit is not None:
                return hit[1]
            raise LinkUnavailable(token) from exc
        _to_redis(token, link)
    with _local_lock:
        if len(_local) >= _LOCAL_MAX:
            _local.clear()
        _local[token] = (now + settings.CLICK_LINK_CACHE_SECONDS, link)
    return link


def links_forget(tokens: list[str]) -> None:
    """Evict these tokens from this process and from Redis (other processes expire on their own)."""
    with _local_lock:
        for token in tokens:
            _local.pop(token, None)
    client = redis_conn.client()
    if client is None or not tokens:
        return
    try:
        client.delete(*[_redis_key(t) for t in tokens])
    except redis_conn.WRITE_ERRORS:
        log.warning("could not evict %d link snapshots from Redis", len(tokens))


def _tokens_of(condition: Q) -> list[str]:
    return list(OfferAccess.objects.filter(condition).values_list("token", flat=True))


def _on_change(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if isinstance(instance, OfferAccess):
        tokens = [instance.token]
    elif isinstance(instance, Offer):
        # Offers that fall back to this one embed its landing URL and liveness too.
        tokens = _tokens_of(Q(offer=instance) | Q(offer__fallback_offer=instance))
    elif isinstance(instance, Cap):
        tokens = _tokens_of(Q(offer_id=instance.offer_id))
    elif isinstance(instance, Publisher):
        tokens = _tokens_of(Q(publisher=instance))
    elif isinstance(instance, Advertiser):
        tokens = _tokens_of(Q(offer__advertiser=instance))
    else:
        return
    links_forget(tokens)


def connect_signals() -> None:
    for model in (OfferAccess, Offer, Cap, Publisher, Advertiser):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"clickpath-{model.__name__}-save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"clickpath-{model.__name__}-delete")
