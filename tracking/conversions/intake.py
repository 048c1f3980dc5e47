"""The two ways a conversion arrives: the server-to-server postback and the browser pixel.

Each turns a request into a Draft (find the click or coupon, authenticate, attribute) and hands
it to services.conversion_prepare, then conversion_store; a known txn_id with a status becomes
a status update. ``postback_plan`` is the part after the click lookup, which the edge's route
(route.py) runs on its event loop, looking clicks up and storing conversions in batches of its
own (aio_db.py); ``postback_receive`` is the whole postback, run in the edge's thread pool.
Any database failure becomes 503 for the postback (the advertiser retries; nothing is answered
200 without a durable write) and a GIF for the pixel (a browser cannot retry anyway).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import Error as DatabaseError
from django.utils import timezone

from tracking.conversions.attribution import Attribution, attribute_click, attribute_pixel
from tracking.conversions.auth import postback_authenticate
from tracking.conversions.catalog import advertiser_by_id, coupon_find, offer_info
from tracking.conversions.click_lookup import click_find
from tracking.conversions.customers import customer_hash
from tracking.conversions.fraud import Visitor
from tracking.conversions.outcome import Outcome, PostbackError, Result, bad_request
from tracking.conversions.params import ConversionInput, conversion_input_parse
from tracking.conversions.services import (
    Draft,
    NewConversion,
    conversion_by_txn,
    conversion_prepare,
    conversion_record,
    conversion_store,
)
from tracking.conversions.status import status_update_outcome
from tracking.ids import click_cookie_name, click_first_cookie_name, click_id_parse
from tracking.models import Click, Conversion
from tracking.models.conversions import ConversionStatus
from tracking.reasons import Reason
from tracking.visitor import ip_for_storage, network_for_ip

logger = logging.getLogger(__name__)
# What a pixel may report: never status or credentials (see pixel_receive).
PIXEL_FIELDS = frozenset({"goal", "amount", "currency", "txn_id", "customer_id", "customer_type"})


def postback_unavailable(exc: Exception) -> Outcome:
    logger.exception("conversion not stored: %s", exc)
    return Outcome(503, Result.ERROR, Reason.STORAGE_UNAVAILABLE, message="Not stored; retry later.")


def postback_receive(raw: dict[str, str], *, ip: str, now: datetime | None = None) -> Outcome:
    """Answer one postback, blocking (the edge's thread pool: route.py)."""
    now = now or timezone.now()
    try:
        inp = conversion_input_parse(raw)
        click = click_find(click_id=inp.click_id) if inp.click_id else None
        planned = postback_plan(inp, click=click, ip=ip, now=now)
        return planned if isinstance(planned, Outcome) else conversion_store(planned)
    except PostbackError as refused:
        return refused.outcome()
    except DatabaseError as exc:
        return postback_unavailable(exc)


def postback_plan(
    inp: ConversionInput, *, click: Click | None, ip: str, now: datetime
) -> Outcome | NewConversion:
    """Everything a postback decides once its click (``inp.click_id``'s, or None) is known:
    authentication, attribution, then a status update's answer (written already) or the new
    conversion to store. Raises PostbackError for a 4xx. On the edge's event loop, any step
    that needs the database raises Offload instead (offload.py)."""
    coupon = coupon_find(inp.coupon) if inp.coupon and click is None else None
    offer_id = click.converting_offer_id if click else coupon.offer_id if coupon else inp.offer_id
    info = offer_info(offer_id) if offer_id else None
    auth = postback_authenticate(
        inp=inp, ip=ip, advertiser_hint=info.advertiser_id if info else None, now=now.timestamp()
    )
    advertiser_id = auth.advertiser.id
    if info is not None and info.advertiser_id != advertiser_id:
        raise PostbackError(403, Reason.WRONG_ADVERTISER, "This conversion belongs to another advertiser.")
    if inp.txn_id and inp.status:
        existing = conversion_by_txn(advertiser_id=advertiser_id, inp=inp, offer_id=offer_id)
        if existing is not None:
            return status_update_outcome(
                conversion=existing,
                to_status=inp.status,
                advertiser_id=advertiser_id,
                sig=inp.sig if auth.method == "signature" else "",
            )
        if inp.status == ConversionStatus.REVERSED or not (inp.click_id_raw or inp.coupon):
            raise bad_request(Reason.UNKNOWN_TXN_ID, "No conversion has this txn_id.")
    if not inp.click_id_raw and not inp.coupon:
        raise bad_request(Reason.MISSING_CLICK_ID, "click_id is required unless coupon is given.")
    if click is not None and info is not None:
        attribution = attribute_click(click=click, offer=info.offer, now=now)
    elif coupon is not None:
        attribution = Attribution(
            None, "coupon", "coupon", note=f"coupon {coupon.code} of publisher {coupon.publisher_id}"
        )
    else:
        attribution = Attribution(None, "none", "none", note="the reported click id is not ours")
    draft = Draft(
        inp=inp,
        source=Conversion.Source.COUPON if coupon is not None else Conversion.Source.POSTBACK,
        now=now,
        advertiser_id=advertiser_id,
        info=info if (click or coupon) else None,
        attribution=attribution,
        coupon=coupon,
        sig=inp.sig if auth.method == "signature" else "",
        customer_hash=customer_hash(key=auth.advertiser.customer_key, customer_id=inp.customer_id),
        request={"via": "postback", "auth": auth.method, "sender_ip": ip, "received_at": now.isoformat()},
    )
    return conversion_prepare(draft)


def pixel_receive(
    offer_id: int,
    raw: dict[str, str],
    *,
    ip: str,
    user_agent: str,
    cookies: dict[str, str],
    now: datetime | None = None,
) -> Outcome | None:
    """Record a pixel conversion. Never raises: the caller always answers with the GIF."""
    now = now or timezone.now()
    info = None
    try:
        info = offer_info(offer_id)
        if info is None:
            return None
        # The pixel is unauthenticated: only its conversion fields are read, never status or
        # credentials (a page visitor must not be able to approve or reverse anything).
        fields = {k: v for k, v in raw.items() if k in PIXEL_FIELDS}
        inp = conversion_input_parse(fields)
        advertiser = advertiser_by_id(info.advertiser_id) if inp.customer_id else None
        cookie_raw = cookies.get(click_cookie_name(offer_id), "")
        visitor = Visitor(ip, user_agent, network_for_ip(ip).country, bool(cookie_raw))
        attribution = attribute_pixel(
            offer=info.offer,
            now=now,
            cookie_click_id=click_id_parse(cookie_raw),
            first_cookie_click_id=click_id_parse(cookies.get(click_first_cookie_name(offer_id))),
            ip=ip_for_storage(ip),
            user_agent=user_agent,
        )
        draft = Draft(
            inp=inp,
            source=Conversion.Source.PIXEL,
            now=now,
            advertiser_id=info.advertiser_id,
            info=info,
            attribution=attribution,
            visitor=visitor,
            customer_hash=customer_hash(key=advertiser.customer_key, customer_id=inp.customer_id)
            if advertiser
            else "",
            request={"via": "pixel", "auth": "none", "received_at": now.isoformat()},
        )
        return conversion_record(draft)
    except PostbackError as refused:
        return _pixel_refused(
            refused, offer_id=offer_id, advertiser_id=info.advertiser_id if info else None, now=now
        )
    except DatabaseError as exc:
        return postback_unavailable(exc)


def _pixel_refused(
    refused: PostbackError, *, offer_id: int, advertiser_id: int | None, now: datetime
) -> Outcome:
    """A malformed pixel cannot get a 400 (the browser shows an image), so keep it for the
    advertiser's audit as a rejected conversion with the reason."""
    try:
        conv = Conversion.objects.create(
            created_at=now,
            source=Conversion.Source.PIXEL,
            advertiser_id=advertiser_id,
            offer_id=offer_id,
            status=ConversionStatus.REJECTED,
            reason=refused.reason,
            trace={
                "request": {"via": "pixel"},
                "rejection": {"reason": refused.reason, "detail": refused.message},
            },
        )
    except DatabaseError as exc:
        return postback_unavailable(exc)
    return Outcome(200, Result.REJECTED, refused.reason, conv.id, conv.status)
