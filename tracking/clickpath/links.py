"""Token -> link snapshot: everything a click needs to know, without touching the database.

A snapshot is built from the database once, stored in Redis (when configured) and kept in each
process for ``CLICK_LINK_CACHE_SECONDS``. Saving an offer, access, publisher, advertiser or cap
(or smart link or path) evicts the Redis copies of the tokens it affects, smart links whose
paths embed the changed offer's link included (signal receivers below, so admin, API and
services are all covered); other processes drop their local copy when it expires, so an edit
takes effect everywhere within seconds. ``QuerySet.update()`` sends no signal: the short local
TTL and the Redis TTL bound that case too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Model, Q
from django.db.models.signals import post_delete, post_save

from affiliates.models import Advertiser, Cap, Offer, OfferAccess, Publisher
from tracking.clickpath import redis_conn
from tracking.clickpath.holdout import holdout_rule
from tracking.clickpath.snapshots import CapRule as CapRule
from tracking.clickpath.snapshots import Link as Link
from tracking.clickpath.snapshots import SmartPathEntry, SmartSnapshot, VariantEntry, snapshot_from_json
from tracking.clickpath.snapshots import Target as Target
from tracking.models.abtests import AbTest, AbVariant
from tracking.models.holdouts import HoldoutTest
from tracking.models.smartlinks import SmartLink, SmartPath

log = logging.getLogger(__name__)

Snapshot = Link | SmartSnapshot
SNAPSHOTS = (Link, SmartSnapshot)

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
REDIS_TTL_SECONDS = 300
MISSING_TTL_SECONDS = 30


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


def link_build(token: str) -> Link | SmartSnapshot | None:
    """Read one link, or smart link, from the database (the slow path behind the caches)."""
    access = (
        OfferAccess.objects.select_related("offer__advertiser", "offer__fallback_offer", "publisher")
        .filter(token=token)
        .first()
    )
    if access is None:
        return smart_build(token)
    return _offer_link(token, access.offer, access.publisher, access.status == OfferAccess.Status.APPROVED)


def _path_entry(token: str, smart: SmartLink, path: SmartPath, catch_all: SmartPath | None) -> SmartPathEntry:
    """A path as the click reads it: its offer's link for the smart link's publisher, with the
    path's landing page and daily cap, falling back to the catch-all (the catch-all itself
    falls back down its offer's own chain)."""
    offer, publisher = path.offer, smart.publisher
    access = OfferAccess.objects.filter(offer=offer, publisher=publisher).first()
    approved = access is not None and access.status == OfferAccess.Status.APPROVED
    link = _offer_link(token, offer, publisher, approved)
    caps = link.caps
    if path.daily_cap is not None:
        caps = (*caps, CapRule("day", path.daily_cap, per_publisher=True, path_id=path.pk))
    chain = link.fallback_chain
    if catch_all is not None and not path.is_catch_all:
        ca = catch_all.offer
        chain = (
            Target(
                ca.pk,
                catch_all.landing_url or ca.landing_url,
                ca.attribution_window_days,
                tuple(ca.target_countries or ()),
                tuple(ca.target_devices or ()),
                tuple(ca.target_os or ()),
            ),
        )
    link = replace(
        link,
        landing_url=path.landing_url or offer.landing_url,
        fallback_chain=chain,
        fallback_url=smart.fallback_url or link.fallback_url,
        caps=caps,
        variants=() if path.landing_url else link.variants,  # the path's own page is not under test
    )
    return SmartPathEntry(
        path_id=path.pk,
        weight=path.weight,
        paused=path.status == SmartPath.Status.PAUSED,
        countries=tuple(path.countries or ()),
        devices=tuple(path.devices or ()),
        os=tuple(path.os or ()),
        hours=tuple(int(h) for h in path.hours or ()),
        daily_cap=path.daily_cap,
        link=link,
    )


def smart_build(token: str) -> SmartSnapshot | None:
    """A smart link's snapshot, every path's link built in, or None for an unknown token."""
    smart = SmartLink.objects.select_related("publisher").filter(token=token).first()
    if smart is None:
        return None
    paths = list(smart.paths.select_related("offer__advertiser", "offer__fallback_offer"))
    catch_all = next((p for p in paths if p.is_catch_all), None)
    entries = tuple(_path_entry(token, smart, p, catch_all) for p in paths if not p.is_catch_all)
    version = hashlib.blake2b(
        json.dumps([(p.pk, p.weight, p.status) for p in paths]).encode(), digest_size=6
    ).hexdigest()
    return SmartSnapshot(
        token=token,
        smart_link_id=smart.pk,
        publisher_id=smart.publisher_id,
        sticky_seconds=smart.sticky_hours * 3600,
        version=version,
        paths=entries,
        catch_all=_path_entry(token, smart, catch_all, None) if catch_all else None,
    )


def _offer_link(token: str, offer: Offer, publisher: Publisher, approved: bool) -> Link:
    return Link(
        token=token,
        offer_id=offer.pk,
        publisher_id=publisher.pk,
        access_approved=approved,
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
        holdout=holdout_rule(offer, publisher.pk),
        variants=_variants(offer),
        advertiser_id=offer.advertiser_id,
    )


def _variants(offer: Offer) -> tuple[VariantEntry, ...]:
    """The live variants of the offer's running or decided A/B test (at most one: a constraint)."""
    rows = AbVariant.objects.filter(
        test__offer=offer,
        test__status__in=(AbTest.Status.RUNNING, AbTest.Status.DECIDED),
        status=AbVariant.Status.ACTIVE,
    ).order_by("position", "pk")
    out = []
    for v in rows:
        url = (v.landing_url or offer.landing_url).replace("{variant_id}", str(v.pk))
        url = url.replace("{creative_id}", str(v.creative_id or ""))
        out.append(VariantEntry(v.pk, v.weight, url))
    return tuple(out)


# token -> (expires at, monotonic clock; snapshot or None for "no such token")
_local: dict[str, tuple[float, Snapshot | None]] = {}
_local_lock = threading.Lock()
_LOCAL_MAX = 50_000


def _redis_key(token: str) -> str:
    # v4: snapshots carry the advertiser (tracking domains); older ones (a rolling deploy) are
    # simply missed.
    return redis_conn.key("link:v4", token)


def _from_redis(token: str) -> tuple[bool, Snapshot | None]:
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
    return True, (None if raw == b"-" else snapshot_from_json(raw))


def _to_redis(token: str, link: Snapshot | None) -> None:
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


def link_cached(token: str) -> Snapshot | object | None:
    """The link from this process's cache without any I/O, None for a malformed or known-missing
    token, or MISS when only ``link_resolve`` (Redis, then the database) can say."""
    hit = _local.get(token)  # only well-formed tokens are ever cached: no need to match first
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    return MISS if TOKEN_RE.match(token) else None


def link_resolve(token: str) -> Snapshot | None:
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


def _tokens_of(condition: Q, smart: Q) -> list[str]:
    """The tokens of the links matching ``condition`` and of the smart links matching
    ``smart`` (a smart link embeds each path offer's link snapshot)."""
    tokens = list(OfferAccess.objects.filter(condition).values_list("token", flat=True))
    return tokens + _smart_tokens(smart)


def _smart_tokens(condition: Q) -> list[str]:
    return list(SmartLink.objects.filter(condition).distinct().values_list("token", flat=True))


def _on_change(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if isinstance(instance, OfferAccess):
        smart = Q(paths__offer_id=instance.offer_id, publisher_id=instance.publisher_id)
        tokens = [instance.token, *_smart_tokens(smart)]
    elif isinstance(instance, Offer):
        # Offers that fall back to this one embed its landing URL and liveness too.
        tokens = _tokens_of(
            Q(offer=instance) | Q(offer__fallback_offer=instance),
            Q(paths__offer=instance) | Q(paths__offer__fallback_offer=instance),
        )
    elif isinstance(instance, Cap):
        tokens = _tokens_of(Q(offer_id=instance.offer_id), Q(paths__offer_id=instance.offer_id))
    elif isinstance(instance, Publisher):
        tokens = _tokens_of(Q(publisher=instance), Q(publisher=instance))
    elif isinstance(instance, Advertiser):
        tokens = _tokens_of(Q(offer__advertiser=instance), Q(paths__offer__advertiser=instance))
    elif isinstance(instance, SmartLink):
        tokens = [instance.token]
    elif isinstance(instance, HoldoutTest):
        tokens = _tokens_of(Q(offer_id=instance.offer_id), Q(paths__offer_id=instance.offer_id))
    elif isinstance(instance, SmartPath):
        tokens = _smart_tokens(Q(pk=instance.smart_link_id))
    elif isinstance(instance, AbTest | AbVariant):
        offer_id = instance.offer_id if isinstance(instance, AbTest) else instance.test.offer_id
        tokens = _tokens_of(Q(offer_id=offer_id), Q(paths__offer_id=offer_id))
    else:
        return
    links_forget(tokens)


def connect_signals() -> None:
    models = (
        OfferAccess,
        Offer,
        Cap,
        Publisher,
        Advertiser,
        SmartLink,
        SmartPath,
        HoldoutTest,
        AbTest,
        AbVariant,
    )
    for model in models:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"clickpath-{model.__name__}-save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"clickpath-{model.__name__}-delete")
