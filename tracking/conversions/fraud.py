"""Fraud rules. Each one that fires adds a flag and a reason; a flagged conversion is held as
pending for review and never approved automatically.

Postbacks come from the advertiser's server, so its IP and user agent say nothing about the
visitor: the visitor rules read the click. A pixel is fired by the visitor's browser, so the
rules read both the click and the pixel request (low trust: every rule applies).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from affiliates.models import Offer
from tracking.models import Click
from tracking.visitor import is_bot, network_for_ip

# The flag the click path sets on clicks over settings.CLICK_FLOOD_PER_HOUR per IP and offer.
CLICK_FLOOD_FLAG = "click_flood"

RULES = (
    "bot_user_agent",
    "datacenter_asn",
    "duplicate_click",
    "click_flood",
    "click_to_conversion_too_fast",
    "click_to_conversion_too_slow",
    "invalid_click",
    "pixel_without_cookie",
    "country_mismatch",
)


@dataclass(frozen=True)
class Fired:
    rule: str
    reason: str

    def trace(self) -> dict[str, str]:
        return {"rule": self.rule, "reason": self.reason}


@dataclass(frozen=True)
class Visitor:
    """The browser behind a pixel request (raw IP, before privacy truncation)."""

    ip: str
    user_agent: str
    country: str
    cookie_present: bool


def _visitor_rules(ua: str, ip: str, who: str) -> list[Fired]:
    fired = []
    if is_bot(ua):
        fired.append(Fired("bot_user_agent", f"{who} user agent is a known crawler or empty: {ua[:120]!r}"))
    network = network_for_ip(ip)
    if network.is_datacenter:
        fired.append(
            Fired("datacenter_asn", f"{who} IP {ip} is in a datacenter network ({network.asn_name})")
        )
    return fired


def _click_rules(click: Click, offer: Offer, now: datetime) -> list[Fired]:
    fired = _visitor_rules(click.user_agent, click.ip, "the click's")
    if not click.is_unique:
        fired.append(
            Fired("duplicate_click", "the click was not unique within the offer's unique-click window")
        )
    if CLICK_FLOOD_FLAG in (click.fraud_flags or []):
        fired.append(Fired("click_flood", "the click's IP sent too many clicks to this offer in an hour"))
    seconds = (now - click.created_at).total_seconds()
    low, high = offer.min_click_to_conversion_seconds, offer.max_click_to_conversion_seconds
    if low is not None and seconds < low:
        fired.append(
            Fired("click_to_conversion_too_fast", f"converted {seconds:.0f}s after the click, minimum {low}s")
        )
    # Slower than the maximum: rejected by the intake when the offer says so, else held here.
    if high is not None and seconds > high and offer.slow_conversion_action == Offer.SlowConversion.HOLD:
        fired.append(
            Fired(
                "click_to_conversion_too_slow", f"converted {seconds:.0f}s after the click, maximum {high}s"
            )
        )
    if click.reason and click.fallback_offer_id != offer.id:
        fired.append(Fired("invalid_click", f"the click was not sent to the offer ({click.reason})"))
    return fired


def fraud_check(*, click: Click | None, offer: Offer, now: datetime, visitor: Visitor | None) -> list[Fired]:
    """Every rule that fires for this conversion, in RULES order."""
    fired = _click_rules(click, offer, now) if click is not None else []
    if visitor is not None:
        seen = {f.rule for f in fired}
        fired += [
            f for f in _visitor_rules(visitor.user_agent, visitor.ip, "the pixel's") if f.rule not in seen
        ]
        if not visitor.cookie_present:
            fired.append(Fired("pixel_without_cookie", "the pixel request carried no click cookie"))
        if click is not None and click.country and visitor.country and click.country != visitor.country:
            fired.append(
                Fired("country_mismatch", f"click from {click.country}, conversion from {visitor.country}")
            )
    return sorted(fired, key=lambda f: RULES.index(f.rule))
