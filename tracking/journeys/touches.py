"""A conversion's touches: which clicks, impressions and coupon make up its journey.

Linked, in this order, by
- the click id chain: the conversion's click and the clicks attribution looked at (its trace);
- the customer: the clicks behind the same customer's (hashed id) earlier conversions with the
  advertiser within the window;
- the visitor key: the stored IP and user agent of those clicks (what the first-party click
  cookie stands for across publishers: the cookie is per offer and holds one click) and, for
  a pixel, of the conversion itself: every click on the offer from that visitor in the window;
- impressions of the same visitor keys, where the offer enables view-through, within its view
  window; and a coupon conversion's coupon, a touch of the coupon's publisher at conversion time.

Every read is bounded by the offer and the attribution window (the click_offer_ip_time and
impression_offer_pub_time indexes); no lookup scans clicks beyond that window. The job reads
``journeys_touches`` of CHUNK conversions at once: one query per kind of read (click ids,
customers, each offer's visitor IPs, impressions) rather than several per conversion, the
per-conversion bounds applied in Python to the rows read.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from affiliates.models import Offer
from tracking.models import Click, Conversion, Impression
from tracking.models.journeys import TouchKind

#: A journey keeps at most this many touches (the latest): a visitor clicking a hundred times
#: is noise, and a trace must stay readable.
MAX_TOUCHES = 50
#: Visitor keys followed per conversion: a shared IP behind many user agents is not one visitor.
MAX_VISITORS = 10
VALID = ("pending", "approved")


@dataclass(frozen=True)
class Found:
    kind: str
    at: datetime
    publisher_id: int
    linked_by: str
    click_id: uuid.UUID | None = None
    impression_id: uuid.UUID | None = None
    sub1: str = ""
    source: str = ""

    @property
    def key(self) -> Any:
        return self.click_id or self.impression_id or ("coupon", self.at)


def _from_click(click: Click, linked_by: str) -> Found:
    return Found(
        TouchKind.CLICK,
        click.created_at,
        click.publisher_id,
        linked_by,
        click_id=click.id,
        sub1=click.sub1,
        source=click.source,
    )


def _from_impression(view: Impression) -> Found:
    return Found(
        TouchKind.IMPRESSION,
        view.created_at,
        view.publisher_id,
        "impression",
        impression_id=view.id,
        sub1=view.sub1,
        source=view.source,
    )


def _trace_click_ids(trace: dict[str, Any]) -> set[uuid.UUID]:
    attribution = trace.get("attribution") or {}
    raw = [attribution.get("click_id"), *(a.get("click_id") for a in attribution.get("alternatives") or [])]
    ids = set()
    for value in raw:
        try:
            ids.add(uuid.UUID(value))
        except (TypeError, ValueError):
            continue
    return ids


def view_through_impression_id(trace: dict[str, Any]) -> uuid.UUID | None:
    """The impression a view-through conversion was attributed to (attribution.impression_id)."""
    try:
        return uuid.UUID((trace.get("attribution") or {}).get("impression_id"))
    except (TypeError, ValueError):
        return None


#: Conversions read together; they are in time order, so a chunk spans a short time.
CHUNK = 2000
#: Values per IN list.
IN_CHUNK = 2000
CLICK_FIELDS = ("id", "created_at", "offer_id", "publisher_id", "ip", "user_agent", "sub1", "source")


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(values)
    for i in range(0, len(items), IN_CHUNK):
        yield items[i : i + IN_CHUNK]


def _since(conv: Conversion, offer: Offer) -> datetime:
    return conv.created_at - timedelta(days=offer.attribution_window_days)


@dataclass
class _Reads:
    """What a chunk of conversions needs, each kind read in one set-based query (or a few)."""

    customer: dict[tuple[int, str], list[tuple[datetime, int, uuid.UUID]]] = field(default_factory=dict)
    clicks: dict[uuid.UUID, Click] = field(default_factory=dict)
    by_ip: dict[tuple[int, str], list[Click]] = field(default_factory=lambda: defaultdict(list))
    views_by_ip: dict[tuple[int, str], list[Impression]] = field(default_factory=lambda: defaultdict(list))
    views: dict[uuid.UUID, Impression] = field(default_factory=dict)
    chains: dict[int, set[uuid.UUID]] = field(default_factory=dict)
    customers: dict[int, set[uuid.UUID]] = field(default_factory=dict)


def _read_customers(pairs: Sequence[tuple[Conversion, Offer]], reads: _Reads) -> None:
    """The advertiser's earlier conversions of each customer: their click ids."""
    wanted = [(c, o) for c, o in pairs if c.customer_hash and c.advertiser_id is not None]
    if not wanted:
        return
    rows = Conversion.objects.filter(
        advertiser_id__in={c.advertiser_id for c, _ in wanted},
        customer_hash__in={c.customer_hash for c, _ in wanted},
        created_at__gte=min(_since(c, o) for c, o in wanted),
        created_at__lt=max(c.created_at for c, _ in wanted),
        click_id__isnull=False,
    ).values_list("advertiser_id", "customer_hash", "created_at", "pk", "click_id")
    found: dict[tuple[int, str], list[tuple[datetime, int, uuid.UUID]]] = defaultdict(list)
    for advertiser_id, customer_hash, created_at, pk, click_id in rows.iterator(chunk_size=5000):
        found[(advertiser_id, customer_hash or "")].append((created_at, pk, click_id))
    reads.customer = {key: sorted(seen, reverse=True) for key, seen in found.items()}  # newest first


def _customer_click_ids(conv: Conversion, since: datetime, reads: _Reads) -> set[uuid.UUID]:
    """The click ids behind the same customer's earlier conversions with the advertiser."""
    if not conv.customer_hash or conv.advertiser_id is None:
        return set()
    rows = reads.customer.get((conv.advertiser_id, conv.customer_hash), [])  # newest first
    picked = [i for at, pk, i in rows if since <= at < conv.created_at and pk != conv.pk]
    return set(picked[:MAX_TOUCHES])


def _read_by_ip(
    kind: str,
    wanted: dict[int, set[str]],
    spans: dict[int, tuple[datetime, datetime]],
    out: dict[tuple[int, str], list[Any]],
) -> None:
    """Valid clicks (or impressions) of each offer from any of its IPs in its time span."""
    for offer_id, ips in wanted.items():
        since, until = spans[offer_id]
        for part in _chunks(sorted(ips)):
            bounds = {
                "offer_id": offer_id,
                "ip__in": part,
                "created_at__gte": since,
                "created_at__lte": until,
            }
            qs: QuerySet[Any] = (
                Click.objects.filter(reason="", **bounds).only(*CLICK_FIELDS)
                if kind == "click"
                else Impression.objects.filter(**bounds)
            )
            for row in qs.iterator(chunk_size=5000):
                out[(offer_id, row.ip)].append(row)


def _visitors(conv: Conversion, clicks: Iterable[Click]) -> set[tuple[str, str]]:
    visitors = {(c.ip, c.user_agent) for c in clicks if c.ip and c.user_agent}
    if conv.ip and conv.user_agent:
        visitors.add((conv.ip, conv.user_agent))
    return set(sorted(visitors)[:MAX_VISITORS])


def _chain(conv: Conversion) -> set[uuid.UUID]:
    chain = _trace_click_ids(conv.trace or {})
    if conv.click_id:
        chain.add(conv.click_id)
    return chain


def _linked(conv: Conversion, offer: Offer, reads: _Reads) -> dict[uuid.UUID, Click]:
    """The clicks of the conversion's click id chain and customer, within its window."""
    since = _since(conv, offer)
    ids = reads.chains[conv.pk] | reads.customers[conv.pk]
    return {
        i: c
        for i in ids
        for c in [reads.clicks.get(i)]
        if c is not None and since <= c.created_at <= conv.created_at
    }


def _widen(
    spans: dict[int, tuple[datetime, datetime]], offer_id: int, since: datetime, until: datetime
) -> None:
    lo, hi = spans.get(offer_id, (since, until))
    spans[offer_id] = (min(lo, since), max(hi, until))


def _read(pairs: Sequence[tuple[Conversion, Offer]]) -> _Reads:
    reads = _Reads()
    _read_customers(pairs, reads)
    for conv, offer in pairs:
        chain = _chain(conv)
        reads.chains[conv.pk] = chain
        reads.customers[conv.pk] = _customer_click_ids(conv, _since(conv, offer), reads) - chain
    ids = set().union(*reads.chains.values(), *reads.customers.values())
    for part in _chunks(ids):
        reads.clicks.update((c.id, c) for c in Click.objects.filter(id__in=part).only(*CLICK_FIELDS))
    ips: dict[int, set[str]] = defaultdict(set)
    view_ips: dict[int, set[str]] = defaultdict(set)
    spans: dict[int, tuple[datetime, datetime]] = {}
    view_spans: dict[int, tuple[datetime, datetime]] = {}
    for conv, offer in pairs:
        visitor_ips = {ip for ip, _ in _visitors(conv, _linked(conv, offer, reads).values())}
        if not visitor_ips:
            continue
        ips[offer.pk] |= visitor_ips
        _widen(spans, offer.pk, _since(conv, offer), conv.created_at)
        if offer.view_through_enabled:
            view_ips[offer.pk] |= visitor_ips
            since = conv.created_at - timedelta(hours=offer.view_through_window_hours)
            _widen(view_spans, offer.pk, since, conv.created_at)
    _read_by_ip("click", ips, spans, reads.by_ip)
    _read_by_ip("impression", view_ips, view_spans, reads.views_by_ip)
    vt = {i for conv, _ in pairs for i in [view_through_impression_id(conv.trace or {})] if i is not None}
    reads.views = Impression.objects.in_bulk(list(vt)) if vt else {}
    return reads


def _newest(
    rows: dict[tuple[int, str], list[Any]], offer_id: int, ips: set[str], since: datetime, until: datetime
) -> list[Any]:
    """What ``offer, ip IN ips, since <= created_at <= until ORDER BY created_at DESC`` reads."""
    merged = [r for ip in ips for r in rows.get((offer_id, ip), []) if since <= r.created_at <= until]
    merged.sort(key=lambda r: r.created_at, reverse=True)
    return merged


def _assemble(conv: Conversion, offer: Offer, reads: _Reads) -> tuple[list[Found], Any]:
    until = conv.created_at
    since = _since(conv, offer)
    chain = reads.chains[conv.pk]
    clicks = _linked(conv, offer, reads)
    found: dict[Any, Found] = {
        cid: _from_click(c, "click_id" if cid in chain else "customer") for cid, c in clicks.items()
    }
    visitors = _visitors(conv, clicks.values())
    if visitors:
        ips = {ip for ip, _ in visitors}
        for c in _newest(reads.by_ip, offer.pk, ips, since, until)[: MAX_TOUCHES * 2]:
            if (c.ip, c.user_agent) in visitors:
                found.setdefault(c.id, _from_click(c, "visitor"))
        if offer.view_through_enabled:
            view_since = until - timedelta(hours=offer.view_through_window_hours)
            for view in _newest(reads.views_by_ip, offer.pk, ips, view_since, until)[:MAX_TOUCHES]:
                if (view.ip, view.user_agent) in visitors and not view.fraud_flags:
                    imp = _from_impression(view)
                    found.setdefault(imp.key, imp)
    paid: Any = conv.click_id
    vt = view_through_impression_id(conv.trace or {})
    if vt is not None:
        seen = reads.views.get(vt)
        if seen is not None:
            found.setdefault(vt, _from_impression(seen))
            paid = vt
    if conv.source == Conversion.Source.COUPON and conv.publisher_id:
        coupon = Found(TouchKind.COUPON, until, conv.publisher_id, "coupon")
        found[coupon.key] = coupon
        paid = coupon.key
    ordered = sorted(found.values(), key=lambda f: (f.at, str(f.key)))
    if offer.attribution_model == Offer.Attribution.LAST_CLICK and paid in found:
        # The advertiser reported the paid click as the visitor's latest: later clicks of the
        # same key did not lead to this conversion.
        cut = ordered.index(found[paid])
        ordered = ordered[: cut + 1]
    return ordered[-MAX_TOUCHES:], paid


def journeys_touches(*, pairs: Sequence[tuple[Conversion, Offer]]) -> Iterator[tuple[list[Found], Any]]:
    """``journey_touches`` of each (conversion, offer), in order, read CHUNK conversions at a
    time with a few set-based queries per chunk instead of several per conversion."""
    for i in range(0, len(pairs), CHUNK):
        chunk = pairs[i : i + CHUNK]
        reads = _read(chunk)
        for conv, offer in chunk:
            yield _assemble(conv, offer, reads)


def journey_touches(conv: Conversion, offer: Offer) -> tuple[list[Found], Any]:
    """The conversion's touches in time order (at most MAX_TOUCHES, the latest) and the key of
    the touch it was paid through (None when that touch is not among them)."""
    return next(journeys_touches(pairs=[(conv, offer)]))
