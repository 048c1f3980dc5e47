"""A holdout test on the click path: which arm a visitor is in, and where a held-out one goes.

The running test of the link's offer is compiled into the link's snapshot (``holdout_rule``,
called by links.py when it builds one; saving a test evicts the offer's snapshots), so the
click needs no I/O for it. Assignment is a deterministic hash of the test and a stable visitor
key (IP and user agent, as smart links' cookie-less stickiness uses): the same visitor lands
in the same arm on every click of the test, on every process, without a lookup, and the
hash's point is uniform, so the held-out share is the configured share; an arm cookie
(``afho_<test id>``) keeps a visitor whose IP or browser version changed in the arm of their
first click. The arm and test are
recorded on the click (``Click.holdout_arm``, ``Click.holdout_test_id``); only clicks that
passed every check before caps are assigned, so a refused click never counts for a test.

A held-out visitor goes to the control destination with the click id appended (or put in
place of ``{click_id}``), so their conversions are still attributed for measurement; the
conversion's intake rejects them with ``holdout_control`` (they earn nothing).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from affiliates.models import Offer
from tracking.clickpath.snapshots import HoldoutRule, Link, Target
from tracking.models.holdouts import HoldoutArm, HoldoutTest


def holdout_rule(offer: Offer, publisher_id: int) -> HoldoutRule | None:
    """The offer's running test as this publisher's link applies it, or None (no test, or
    the test is limited to other publishers)."""
    test = HoldoutTest.objects.filter(offer=offer, status=HoldoutTest.Status.RUNNING).first()
    if test is None:
        return None
    limited = list(test.publishers.values_list("pk", flat=True))
    if limited and publisher_id not in limited:
        return None
    control_url = test.control_url if test.control == HoldoutTest.Control.NEUTRAL else offer.landing_url
    return HoldoutRule(
        test_id=test.pk,
        share=float(test.holdout_share),
        starts_at=test.starts_at.timestamp(),
        ends_at=test.ends_at.timestamp(),
        control_url=control_url,
    )


def visitor_point(test_id: int, visitor: str) -> float:
    """The visitor's point in [0, 1) for this test: below the share, held out."""
    digest = hashlib.blake2b(f"holdout|{test_id}|{visitor}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def arm_for(rule: HoldoutRule, *, visitor: str, now: float) -> str:
    """The visitor's arm, or "" outside the test's dates."""
    if not rule.starts_at <= now < rule.ends_at:
        return HoldoutArm.NONE
    return HoldoutArm.CONTROL if visitor_point(rule.test_id, visitor) < rule.share else HoldoutArm.EXPOSED


def arm_cookie_name(test_id: int) -> str:
    return f"afho_{test_id}"


_COOKIE_ARMS = {"c": HoldoutArm.CONTROL, "e": HoldoutArm.EXPOSED}


def _cookie_arm(test_id: int, cookie_header: str) -> str:
    name = arm_cookie_name(test_id) + "="
    at = cookie_header.find(name)
    if at < 0:
        return ""
    return _COOKIE_ARMS.get(cookie_header[at + len(name) : at + len(name) + 1], "")


def holdout_assign(
    rule: HoldoutRule, rec: dict[str, Any], *, visitor: str, cookie_header: str, now: float
) -> None:
    """Write the visitor's test and arm into the click record (nothing outside the dates).
    The arm cookie, set on the first click, wins over the hash: a visitor whose IP changed
    stays in their arm."""
    arm = arm_for(rule, visitor=visitor, now=now)
    if arm:
        rec["holdout_test_id"] = rule.test_id
        rec["holdout_arm"] = _cookie_arm(rule.test_id, cookie_header) or arm


def arm_cookie(link: Link, rec: dict[str, Any], *, https: bool, now: float) -> list[tuple[str, str]]:
    """The Set-Cookie header that keeps the visitor in their arm until the test ends."""
    rule, arm = link.holdout, rec.get("holdout_arm")
    if rule is None or not arm:
        return []
    attrs = "; Path=/; HttpOnly" + ("; Secure; SameSite=None" if https else "; SameSite=Lax")
    age = max(int(rule.ends_at - now), 0)
    return [("Set-Cookie", f"{arm_cookie_name(rule.test_id)}={arm[0]}; Max-Age={age}{attrs}")]


def control_target(link: Link, rec: dict[str, Any]) -> Target | None:
    """Where a held-out visitor goes (the control destination, rendered like a landing URL:
    macros replaced, the click id added), or None for anyone else."""
    rule = link.holdout
    if rule is None or rec.get("holdout_arm") != HoldoutArm.CONTROL:
        return None
    return Target(link.offer_id, rule.control_url, link.attribution_window_days)


def holdout_arm_of(*, test: HoldoutTest, visitor: str, at: datetime) -> str:
    """The arm the click path gives this visitor at this time (reports and tests)."""
    rule = HoldoutRule(
        test.pk, float(test.holdout_share), test.starts_at.timestamp(), test.ends_at.timestamp(), ""
    )
    return arm_for(rule, visitor=visitor, now=at.timestamp())
