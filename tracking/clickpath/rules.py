"""What a click is allowed to do, in contract order, and where it is sent.

The checks that need no shared state (offer status and dates, approval, targeting) run here;
click caps need counters and run inside the durable write (``store``), which is why the cap
check is last: a click refused earlier must not consume cap.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from tracking.clickpath.deeplinks import deep_link_target
from tracking.clickpath.links import Link, Target
from tracking.models.clicks import ClickReason

SUB_MAX = 255
# ClickReason.OK's value, read once: an Enum member read through its class costs a click
# as much as a small function call, and every click compared it half a dozen times.
_OK: str = ClickReason.OK.value
MACROS = ("click_id", "offer_id", "publisher_id", "sub1", "sub2", "sub3", "sub4", "sub5", "source")


def reason_before_caps(link: Link, *, now: float, country: str, device: str, os_name: str) -> str:
    """The first failing check's reason code, or "" when the click may go on to the cap check."""
    if link.offer_status == "paused" or not link.advertiser_active:
        return ClickReason.OFFER_PAUSED
    if link.offer_status == "expired" or (link.ends_at is not None and now >= link.ends_at):
        return ClickReason.OFFER_EXPIRED
    if link.starts_at is not None and now < link.starts_at:
        # Not started yet: it is not running, like a paused offer, and may still start.
        return ClickReason.OFFER_PAUSED
    if not (link.access_approved and link.publisher_active):
        return ClickReason.NOT_APPROVED
    if link.target_countries and country not in link.target_countries:
        return ClickReason.GEO_MISMATCH
    if (link.target_devices and device not in link.target_devices) or (
        link.target_os and os_name not in link.target_os
    ):
        return ClickReason.DEVICE_MISMATCH
    return _OK


def period_start(period: str, at: datetime) -> datetime:
    """Start of the calendar day, ISO week (Monday) or month containing ``at``, in UTC."""
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def period_seconds(period: str) -> int:
    return {"day": 86400, "week": 7 * 86400}.get(period, 31 * 86400)


_MACRO_RE = re.compile("{(" + "|".join(MACROS) + ")}")
# The macros a click fills from its record, by the record's key; the others are the link's.
_REC_KEYS = {"click_id": "id", **{name: name for name in ("sub1", "sub2", "sub3", "sub4", "sub5", "source")}}


@lru_cache(maxsize=4096)
def url_parts(template: str, offer_id: int, publisher_id: int) -> tuple[tuple[str, ...], bool]:
    """The template as a click fills it: literal, record key, literal, ... (parsed once per
    template and link, not once per click). The offer's and publisher's ids are filled in here,
    and so is ``click_id=`` for a template without ``{click_id}``, where ``_with_click_id`` puts
    it; the bool says it must be added per click instead (where it goes, ``?`` or ``&`` or
    nothing, then depends on whether a value is empty: the part before ``#`` ends in one)."""
    split = _MACRO_RE.split(template)
    ids = {"offer_id": str(offer_id), "publisher_id": str(publisher_id)}
    parts = [split[0]]
    for i in range(1, len(split), 2):
        name, literal = split[i], split[i + 1]
        if name in ids:
            parts[-1] += ids[name] + literal
        else:
            parts += [_REC_KEYS[name], literal]
    if "{click_id}" in template:
        return tuple(parts), False
    # Values are percent-encoded (or letters and digits): "#", "?" and "&" come from literals.
    at = next((i for i in range(0, len(parts), 2) if "#" in parts[i]), None)
    last = len(parts) - 1 if at is None else at
    before = parts[last] if at is None else parts[at].partition("#")[0]
    if not before and last > 0:
        return tuple(parts), True
    base = "".join(parts[i] for i in range(0, last, 2)) + before
    joiner = "" if before.endswith(("?", "&")) else ("&" if "?" in base else "?")
    if at is None:
        parts[last] += f"{joiner}click_id="
        parts += ["id", ""]
    else:
        rest = parts[at][len(before) :]
        parts[at : at + 1] = [f"{before}{joiner}click_id=", "id", rest]
    return tuple(parts), False


def url_fill(parts: tuple[str, ...], rec: dict[str, Any]) -> str:
    """``url_parts``'s template with the click's values, each percent-encoded (ids and most
    sub values are plain letters and digits, which quote() would return as they are)."""
    if len(parts) == 1:
        return parts[0]
    out = list(parts)
    for i in range(1, len(out), 2):
        value = rec[out[i]]
        if value and not (value.isascii() and value.isalnum()):
            value = quote(value, safe="")
        out[i] = value
    return "".join(out)


def _with_click_id(url: str, click_id: str) -> str:
    base, hash_sign, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}click_id={click_id}{hash_sign}{fragment}"


def offer_url(target: Target, rec: dict[str, Any], publisher_id: int) -> str:
    """The target offer's landing URL with every macro replaced by its percent-encoded value
    (the target's own offer id, the link's publisher, the click's id, sub ids and source),
    plus ``click_id=`` when the template has no ``{click_id}``."""
    parts, later = url_parts(target.landing_url, target.offer_id, publisher_id)
    url = url_fill(parts, rec)
    return _with_click_id(url, rec["id"]) if later else url


def landing_url(link: Link, rec: dict[str, Any], deep_link: str) -> str:
    """Where an accepted click goes: the deep link when allowed and safe, else the landing URL."""
    if deep_link and link.deep_links_allowed:
        safe = deep_link_target(deep_link, link.allowed_domains)
        if safe is not None:
            return _with_click_id(safe, rec["id"])
    return offer_url(link.target, rec, link.publisher_id)


def fallback_pick(link: Link, *, country: str, device: str, os_name: str) -> Target | None:
    """The first fallback offer of the chain whose own targeting takes this visitor."""
    for target in link.fallback_chain:
        if target.accepts(country=country, device=device, os_name=os_name):
            return target
    return None


def fallback(
    link: Link, rec: dict[str, Any], default_url: str, target: Target | None
) -> tuple[str, Target | None]:
    """Where a refused click goes: ``target`` (fallback_pick's choice), else the offer's
    fallback URL, else the network's default."""
    if target is not None:
        return offer_url(target, rec, link.publisher_id), target
    return (link.fallback_url or default_url), None
