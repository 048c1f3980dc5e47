"""What a click is allowed to do, in contract order, and where it is sent.

The checks that need no shared state (offer status and dates, approval, targeting) run here;
click caps need counters and run inside the durable write (``store``), which is why the cap
check is last: a click refused earlier must not consume cap.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

from tracking.clickpath.deeplinks import deep_link_target
from tracking.clickpath.links import Link, Target
from tracking.models.clicks import ClickReason

SUB_MAX = 255
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
    return ClickReason.OK


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


@lru_cache(maxsize=4096)
def _compiled(template: str) -> tuple[str, ...]:
    """The template split around its macros: literal, macro name, literal, ... (parsed once
    per template, not once per click)."""
    return tuple(_MACRO_RE.split(template))


def _quoted(value: str) -> str:
    # Ids and most sub values are plain letters and digits, which quote() would return as
    # they are: skip its work for them.
    if not value or (value.isascii() and value.isalnum()):
        return value
    return quote(value, safe="")


def _render(template: str, values: dict[str, str]) -> str:
    """The template with each macro replaced by its percent-encoded value."""
    if "{" not in template:
        return template
    parts = list(_compiled(template))
    for i in range(1, len(parts), 2):
        parts[i] = _quoted(values[parts[i]])
    return "".join(parts)


def _with_click_id(url: str, click_id: str) -> str:
    base, hash_sign, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}click_id={click_id}{hash_sign}{fragment}"


def offer_url(target: Target, values: dict[str, str]) -> str:
    """The target offer's landing URL with every macro replaced by its percent-encoded value,
    plus ``click_id=`` when the template has no ``{click_id}``."""
    if values["offer_id"] != str(target.offer_id):  # a fallback offer: its own id
        values = {**values, "offer_id": str(target.offer_id)}
    url = _render(target.landing_url, values)
    if "{click_id}" not in target.landing_url:
        url = _with_click_id(url, values["click_id"])
    return url


def landing_url(link: Link, values: dict[str, str], deep_link: str) -> str:
    """Where an accepted click goes: the deep link when allowed and safe, else the landing URL."""
    if deep_link and link.deep_links_allowed:
        safe = deep_link_target(deep_link, link.allowed_domains)
        if safe is not None:
            return _with_click_id(safe, values["click_id"])
    return offer_url(link.target, values)


def fallback_pick(link: Link, *, country: str, device: str, os_name: str) -> Target | None:
    """The first fallback offer of the chain whose own targeting takes this visitor."""
    for target in link.fallback_chain:
        if target.accepts(country=country, device=device, os_name=os_name):
            return target
    return None


def fallback(
    link: Link, values: dict[str, str], default_url: str, target: Target | None
) -> tuple[str, Target | None]:
    """Where a refused click goes: ``target`` (fallback_pick's choice), else the offer's
    fallback URL, else the network's default."""
    if target is not None:
        return offer_url(target, values), target
    return (link.fallback_url or default_url), None
