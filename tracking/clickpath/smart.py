"""A smart link's click: which path it takes, in the edge's process, with no I/O.

The snapshot (snapshots.SmartSnapshot) carries every path's targeting, weight and link, so the
choice is a loop over a handful of paths and one weighted draw; the click then goes on as a
click on the chosen path's link (its checks, caps, macros, cookies and durable write), which is
why a smart link keeps the contract's link format, click ids, caps and durability.

Order: paths that cannot take this visitor are skipped with a reason (paused, targeting, time
of day, its daily cap known reached, then the link's own checks: offer paused or expired,
publisher not approved); a visitor bound to a path (the ``afsl_<id>`` cookie) gets it again
while it can take them; otherwise one weighted draw among the rest. No path left: the
catch-all. The skips are recorded on the click (``Click.path_skips``).

Stickiness without a cookie: the draw's random number is a hash of the visitor (IP and user
agent) and the snapshot's version, so the same visitor draws the same path until the weights
or paths change; no lookup is needed for it.

Path caps: a path's daily cap is checked and counted exactly in the click's Redis script (or
under the database path's lock), like an offer cap. The click that finds it full goes to the
catch-all with ``cap_reached``; this process then skips the path until the UTC day ends
(``path_capped``), so later clicks are drawn among the paths that still have room.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass
from functools import lru_cache

from affiliates.core.db import db_id
from tracking.clickpath import rules
from tracking.clickpath.snapshots import SmartPathEntry, SmartSnapshot
from tracking.models.clicks import ClickReason

PATH_PAUSED = "path_paused"
TIME_MISMATCH = "time_mismatch"
SKIPS_MAX = 255
DAY = 86_400

# path id -> unix time until which its cap is known to be reached (this process)
_capped: dict[int, float] = {}
_capped_lock = threading.Lock()


@dataclass(slots=True)
class Pick:
    entry: SmartPathEntry
    skips: str  # "path_id:reason" of each path skipped, space-separated
    bound: bool  # the visitor's cookie chose it


def sticky_cookie_name(smart_link_id: int) -> str:
    return f"afsl_{smart_link_id}"


def path_refusal(entry: SmartPathEntry, *, now: float, country: str, device: str, os_name: str) -> str:
    """Why this path cannot take the visitor, or "" when it can."""
    if entry.paused:
        return PATH_PAUSED
    if entry.countries and country not in entry.countries:
        return ClickReason.GEO_MISMATCH
    if (entry.devices and device not in entry.devices) or (entry.os and os_name not in entry.os):
        return ClickReason.DEVICE_MISMATCH
    if entry.hours and int(now // 3600 % 24) not in entry.hours:
        return TIME_MISMATCH
    until = _capped.get(entry.path_id)
    if until is not None and until > now:
        return ClickReason.CAP_REACHED
    return rules.reason_before_caps(entry.link, now=now, country=country, device=device, os_name=os_name)


def _bound_path(snap: SmartSnapshot, cookie_header: str) -> int:
    name = sticky_cookie_name(snap.smart_link_id) + "="
    at = cookie_header.find(name)
    if at < 0:
        return 0
    value = cookie_header[at + len(name) :].split(";", 1)[0].strip()
    return db_id(value) or 0


def _draw_point(snap: SmartSnapshot, visitor: str) -> float:
    """The draw's point in [0, 1): a hash of the visitor when visitors are bound (the same
    visitor draws the same path while the snapshot's version holds), else random."""
    if snap.sticky_seconds and visitor:
        digest = hashlib.blake2b(f"{visitor}|{snap.token}|{snap.version}".encode(), digest_size=8).digest()
        return int.from_bytes(digest) / 2**64
    return random.random()


def weighted_draw(
    entries: list[SmartPathEntry], point: float, total: int | None = None
) -> SmartPathEntry | None:
    """The entry whose share of the total weight contains ``point`` (0 <= point < 1);
    ``total``: the entries' weights summed, when the caller has it."""
    if total is None:
        total = sum(e.weight for e in entries)
    if total <= 0:
        return None
    mark = point * total
    for entry in entries:
        mark -= entry.weight
        if mark < 0:
            return entry
    return entries[-1]


def smart_pick(
    snap: SmartSnapshot,
    *,
    now: float,
    country: str,
    device: str,
    os_name: str,
    cookie_header: str,
    visitor: str,
) -> Pick | None:
    """The path this click takes, or None when the smart link has no path at all."""
    open_paths: list[SmartPathEntry] = []
    skips: list[str] = []
    total = 0
    for entry in snap.paths:
        refusal = path_refusal(entry, now=now, country=country, device=device, os_name=os_name)
        if refusal:
            skips.append(f"{entry.path_id}:{refusal}")
        else:
            open_paths.append(entry)
            total += entry.weight
    skipped = " ".join(skips)[:SKIPS_MAX] if skips else ""
    if snap.sticky_seconds and cookie_header:
        bound = _bound_path(snap, cookie_header)
        for entry in open_paths:
            if entry.path_id == bound:
                return Pick(entry, skipped, bound=True)
    chosen = weighted_draw(open_paths, _draw_point(snap, visitor), total) if open_paths else None
    if chosen is None:
        chosen = snap.catch_all or (snap.paths[0] if snap.paths else None)
    return None if chosen is None else Pick(chosen, skipped, bound=False)


def verdict_note(pick: Pick, final: str, *, now: float) -> None:
    """Remember a path found full by the durable write, until the UTC day ends."""
    if final == ClickReason.CAP_REACHED:
        with _capped_lock:
            _capped[pick.entry.path_id] = now - now % DAY + DAY


def sticky_header(snap: SmartSnapshot, pick: Pick, *, https: bool) -> tuple[str, str] | None:
    """The cookie that binds the visitor to the path drawn (None: not bound, or bound already)."""
    if not snap.sticky_seconds or pick.bound or pick.entry is snap.catch_all:
        return None
    return ("Set-Cookie", _sticky_value(snap.smart_link_id, pick.entry.path_id, snap.sticky_seconds, https))


@lru_cache(maxsize=4096)
def _sticky_value(smart_link_id: int, path_id: int, seconds: int, https: bool) -> str:
    # A handful of (link, path) pairs take nearly every click: each value is built once.
    attrs = "; Path=/; HttpOnly" + ("; Secure; SameSite=None" if https else "; SameSite=Lax")
    return f"{sticky_cookie_name(smart_link_id)}={path_id}; Max-Age={seconds}{attrs}"


def capped_forget() -> None:
    """Forget what this process learnt about full paths (tests)."""
    with _capped_lock:
        _capped.clear()
