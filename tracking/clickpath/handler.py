"""Request -> response for ``/c/{token}`` and ``/i/{token}``, independent of Django's request.

The edge (edge.py) builds a WSGI-style environ from the ASGI or RSGI request and calls these
steps around its awaited writes: ``click_plan`` before the durable write, ``click_answer``
after it; ``impression_record`` and ``gif`` for an impression.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.utils.encoding import iri_to_uri

from tracking.clickpath import abvariants, holdout, policy, rules, smart, spool, store
from tracking.clickpath.conf import hot
from tracking.clickpath.links import CapRule, Link, Target
from tracking.clickpath.smart import Pick
from tracking.clickpath.snapshots import SmartSnapshot
from tracking.clickpath.visitor_ids import visitor_hash
from tracking.gif import GIF
from tracking.ids import new_click_hex
from tracking.models.clicks import ClickFlag, ClickReason
from tracking.visitor import client_ip, ip_for_storage, is_https, network_for_ip, ua_facts

log = logging.getLogger(__name__)

NO_STORE = ("Cache-Control", "no-store")
# ClickReason.OK's value, read once: an Enum member read through its class costs a click
# as much as a small function call, and every click compared it half a dozen times.
_OK: str = ClickReason.OK.value
_CAP_REACHED: str = ClickReason.CAP_REACHED.value


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def header_value(value: str) -> bytes:
    """A header value as the wire carries it (Latin-1); a landing URL typed with non-ASCII
    characters is percent-encoded first, as Django's redirects do."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return iri_to_uri(value).encode("latin-1", "replace")


# The request headers the click and impression read, by their WSGI names (the handlers read a
# WSGI-style environ, which the edge builds from these for ASGI and RSGI alike). A postback also
# reads its body's.
REQUEST_HEADERS = (
    ("user-agent", "HTTP_USER_AGENT"),
    ("referer", "HTTP_REFERER"),
    ("cookie", "HTTP_COOKIE"),
    ("x-forwarded-for", "HTTP_X_FORWARDED_FOR"),
    ("x-forwarded-proto", "HTTP_X_FORWARDED_PROTO"),
    ("host", "HTTP_HOST"),  # tracking domains (hosts.py)
)
BODY_HEADERS = (("content-type", "CONTENT_TYPE"), ("content-length", "CONTENT_LENGTH"))


def not_allowed(environ: dict[str, Any]) -> Response | None:
    """The 405 for a method other than GET and HEAD; None when the method is fine."""
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        return None
    return Response(405, [("Allow", "GET, HEAD"), NO_STORE])


def failed(kind: str, token: str) -> Response:
    """What a click (``kind`` "c") or impression answers when its code raised: a bug must not
    show the visitor an error page, so it is logged loudly and the visitor sent on."""
    log.exception("%s/%s failed", kind, token)
    if kind == "c":
        return Response(302, [("Location", settings.DEFAULT_FALLBACK_URL), NO_STORE])
    return gif()


def not_stored() -> Response:
    """A click no store took (Redis, the database and the spool all failed). A 302 promises
    that the click is recorded (CONTRACT.md section 1), and a redirect without the click id
    would send the visitor on with the publisher's credit silently gone: so the visitor gets
    an honest 503 and can reload, which is a new click."""
    body = b"The click could not be recorded right now. Please try again in a moment."
    headers = [("Content-Type", "text/plain"), ("Retry-After", "5"), NO_STORE]
    return Response(503, [*headers, ("Content-Length", str(len(body)))], body)


def not_found() -> Response:
    return Response(404, [("Content-Type", "text/plain"), NO_STORE], b"Not Found")


def _clean(value: str, limit: int = rules.SUB_MAX) -> str:
    """Cut to the column size; drop NUL, which PostgreSQL text cannot store."""
    value = value[:limit]
    return value.replace("\x00", "") if "\x00" in value else value


MAX_FIELDS = 200


def _params(environ: dict[str, Any]) -> dict[str, str]:
    """The query as parse_qsl(keep_blank_values=True) reads it, the last value of a repeated
    name winning; only parts with an escape are decoded (most have none, and decoding was a
    tenth of a click). Fields past MAX_FIELDS are ignored rather than refused: the click
    still counts."""
    qs = environ.get("QUERY_STRING")
    if not qs:
        return {}
    params = {}
    for part in qs.split("&", MAX_FIELDS)[:MAX_FIELDS]:
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in name or "+" in name:
            name = unquote(name.replace("+", " "))
        if "%" in value or "+" in value:
            value = unquote(value.replace("+", " "))
        params[name] = value
    return params


def _traffic(environ: dict[str, Any], params: dict[str, str], kind: str) -> tuple[dict[str, Any], str]:
    """The record fields every click and impression has (its fraud flags included), and the
    raw client IP."""
    ip = client_ip(environ)
    ua = _clean(environ.get("HTTP_USER_AGENT") or "", 512)
    facts = ua_facts(ua)
    network = network_for_ip(ip)
    click_id, ms = new_click_hex()
    rec: dict[str, Any] = {
        "kind": kind,
        "id": click_id,
        "created_at": ms,  # the id's own millisecond
        "ip": _clean(ip_for_storage(ip, mode=hot().ip_privacy), 64),  # a forwarded hop can be any text
        "user_agent": ua,
        "country": network.country,
        "device": facts.device,
        "os": facts.os,
        "fraud_flags": _flags(facts.is_bot, network.is_datacenter),
    }
    if params:
        get = params.get
        for name in _QUERY_FIELDS:
            value = get(name)
            rec[name] = _clean(value) if value else ""
    else:  # a link without sub ids or source (no query at all)
        rec.update(_NO_QUERY_FIELDS)
    return rec, ip


_QUERY_FIELDS = ("source", "sub1", "sub2", "sub3", "sub4", "sub5")
_NO_QUERY_FIELDS = dict.fromkeys(_QUERY_FIELDS, "")
_BOT, _DATACENTER = ClickFlag.BOT.value, ClickFlag.DATACENTER.value  # read once: Enum.value is slow


def _flags(bot: bool, datacenter: bool) -> list[str]:
    # A new list per record: a record's flags are its own (the verdicts extend copies of them).
    if not (bot or datacenter):
        return []
    flags = []
    if bot:
        flags.append(_BOT)
    if datacenter:
        flags.append(_DATACENTER)
    return flags


def _redirect(location: str) -> Response:
    # Location is built from checked parts and percent-encoded values; this is a last guard so
    # no input can ever split the response.
    if "\r" in location or "\n" in location or "\x00" in location:
        location = settings.DEFAULT_FALLBACK_URL
    return Response(302, [("Location", location), NO_STORE, ("Content-Length", "0")])


def unavailable(environ: dict[str, Any], token: str) -> Response:
    """A click whose link nobody can read right now (database down, nothing cached): spooled
    with its token, sent to the network's default fallback."""
    rec, _ = _traffic(environ, _params(environ), "c")
    rec.update(
        token=token,
        offer_id=None,
        publisher_id=None,
        referer=_clean(environ.get("HTTP_REFERER") or "", 1024),
        reason=ClickReason.UNAVAILABLE.value,
        is_unique=True,
        fraud_flags=[],
        fallback_offer_id=None,
    )
    try:
        store.unresolved_store(rec)
    except spool.SpoolUnavailable:
        log.error("click %s on %s not recorded: the spool cannot write", rec["id"], token)
        return not_stored()
    return _redirect(settings.DEFAULT_FALLBACK_URL)


@dataclass(slots=True)
class ClickPlan:
    """A click checked and recorded in memory, waiting for its durable write: the write's
    verdict (the cap check happens inside it) decides where it goes (``click_answer``)."""

    link: Link
    rec: dict[str, Any]
    ip: str
    params: dict[str, str]
    caps: tuple[CapRule, ...]
    https: bool
    cookie_header: str
    fallback: Target | None  # where the click goes if refused (now or by a cap)
    visitor: str  # visitor_ids.visitor_hash of IP and user agent
    snapshot: SmartSnapshot | None = None  # a smart link's click: ``link`` is its chosen path's
    pick: Pick | None = None
    freq: policy.FreqCheck | None = None  # frequency caps across offers, checked in the write


def click_plan(environ: dict[str, Any], link: Link | SmartSnapshot) -> ClickPlan | None:
    """Everything before the durable write: the record, the checks before caps, the caps.
    None for a smart link without any path (answered like an unknown token).

    Each of the offer's optional features (a smart link's paths, an A/B test, a fallback
    chain, negative lists and frequency caps, a holdout test) costs a click only when the
    link or offer has it: one attribute or dict look-up each otherwise (nearly every click).
    """
    params = _params(environ)
    rec, ip = _traffic(environ, params, "c")
    cookie = environ.get("HTTP_COOKIE") or ""
    https = is_https(environ)
    now = time.time()
    # The visitor's keyed hash of IP and user agent (visitor_ids.py): the uniqueness key's
    # (store.click_script_call), a smart link's draw and the frequency caps' visitor for a
    # visitor without a cookie.
    visitor = visitor_hash(ip, rec["user_agent"], now=now)
    snap, pick = None, None
    if isinstance(link, SmartSnapshot):  # the smart link's path for this click (smart.py)
        snap = link
        pick = smart.smart_pick(
            snap, now=now, country=rec["country"], device=rec["device"], os_name=rec["os"],
            cookie_header=cookie, visitor=visitor,
        )  # fmt: skip
        if pick is None:
            return None
        rec["smart_path_id"] = pick.entry.path_id
        rec["path_skips"] = pick.skips
        link = pick.entry.link
    if link.variants:  # the offer runs an A/B test: the visitor's variant (abvariants.py)
        link = abvariants.variant_choose(link, rec, cookie, params)
    country, device, os_name = rec["country"], rec["device"], rec["os"]
    reason: str
    if pick is not None and pick.open:
        # The pick ran the path's link's checks for this visitor (smart.py's memo), and a
        # variant's link differs from it in its landing page only.
        reason, fallback = _OK, pick.fallback
    else:
        reason = rules.reason_before_caps(link, now=now, country=country, device=device, os_name=os_name)
        fallback = (
            rules.fallback_pick(link, country=country, device=device, os_name=os_name)
            if link.fallback_chain
            else None
        )
    rec["offer_id"] = link.offer_id
    rec["publisher_id"] = link.publisher_id
    rec["referer"] = _clean(environ.get("HTTP_REFERER") or "", 1024)
    # Caps are decided inside the atomic write, so the record carries where a refusal goes.
    rec["fallback_if_refused"] = fallback.offer_id if fallback is not None else None
    freq = None
    if reason == _OK:  # negative lists, then frequency caps (policy.py)
        reason, freq = policy.click_checks(link, rec, ip, cookie_header=cookie, visitor=visitor, https=https)
        if link.holdout is not None and reason == _OK:
            # The arm's draw hashes address and browser itself (holdout.arm_for); ``visitor``
            # stays the keyed id, which the uniqueness key carries into Redis.
            who = f"{ip}|{rec['user_agent']}"
            holdout.holdout_assign(link.holdout, rec, visitor=who, cookie_header=cookie, now=now)
    rec["reason"] = reason
    caps = link.caps if reason == _OK else ()
    return ClickPlan(link, rec, ip, params, caps, https, cookie, fallback, visitor, snap, pick, freq)


def click_destination(plan: ClickPlan, final: str) -> tuple[str, Target | None]:
    """Where a click whose durable write returned reason ``final`` goes, and the offer whose
    cookies it carries (None: a plain fallback URL). The redirect and the click API's JSON
    answer (server_clicks.py) both read it."""
    link, rec = plan.link, plan.rec
    if final == _OK:
        control = holdout.control_target(link, rec) if link.holdout is not None else None
        if control is not None:
            return rules.offer_url(control, rec, link.publisher_id), link.target
        deep_link = plan.params.get("url", "") if plan.params else ""
        return rules.landing_url(link, rec, deep_link), link.target
    return rules.fallback(link, rec, settings.DEFAULT_FALLBACK_URL, plan.fallback)


def click_answer(plan: ClickPlan, final: str) -> Response:
    """The redirect for a click whose durable write returned reason ``final``."""
    link, rec = plan.link, plan.rec
    location, target = click_destination(plan, final)
    response = _redirect(location)
    if target is not None:
        # The latest-click cookie, and the first-click cookie unless the visitor has one already.
        click_id = rec["id"]
        latest, first, tail = target.cookie_parts(https=plan.https)
        headers = response.headers
        headers.append(("Set-Cookie", f"{latest}={click_id}{tail}"))
        raw = plan.cookie_header
        if first not in raw or first not in SimpleCookie(raw):
            headers.append(("Set-Cookie", f"{first}={click_id}{tail}"))
    if final == _OK and link.holdout is not None:
        response.headers += holdout.arm_cookie(link, rec, https=plan.https, now=time.time())
    if plan.freq is not None and plan.freq.set_cookie is not None:
        response.headers.append(plan.freq.set_cookie)
    if plan.pick is not None and plan.snapshot is not None:
        if final == _CAP_REACHED:
            smart.verdict_note(plan.pick, final, now=time.time())
        elif final == _OK and plan.snapshot.sticky_seconds:
            sticky = smart.sticky_header(plan.snapshot, plan.pick, https=plan.https)
            if sticky is not None:
                response.headers.append(sticky)
    return response


def gif() -> Response:
    return Response(200, [("Content-Type", "image/gif"), ("Content-Length", str(len(GIF))), NO_STORE], GIF)


def impression_record(
    environ: dict[str, Any], link: Link | SmartSnapshot
) -> tuple[dict[str, Any], str, Link]:
    """An impression's record, with the bot and datacenter flags a click would get, the raw
    client IP (for the uniqueness and flood keys) and the link it counts for (a smart link's
    impression counts for the path a click would get)."""
    rec, ip = _traffic(environ, _params(environ), "i")
    if isinstance(link, SmartSnapshot):
        cookie, now = environ.get("HTTP_COOKIE") or "", time.time()
        pick = smart.smart_pick(
            link,
            now=now,
            country=rec["country"],
            device=rec["device"],
            os_name=rec["os"],
            cookie_header=cookie,
            visitor=visitor_hash(ip, rec["user_agent"], now=now),
        )
        if pick is None:
            raise LookupError("a smart link without paths")
        link = pick.entry.link
    rec.update(offer_id=link.offer_id, publisher_id=link.publisher_id)
    return rec, ip, link
