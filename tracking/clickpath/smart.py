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

Stickiness without a cookie: the draw's random number is the hash of the visitor (IP and user
agent) that the click's uniqueness key uses, mixed with a hash of the snapshot's version, so
the same visitor draws the same path until the weights or paths change; no lookup is needed
for it.

Path caps: a path's daily cap is checked and counted exactly in the click's Redis script (or
under the database path's lock), like an offer cap. The click that finds it full goes to the
catch-all with ``cap_reached``; this process then skips the path until the UTC day ends
(``path_capped``), so later clicks are drawn among the paths that still have room.

Memo: which paths are open, and why the others are skipped, depends on the visitor only
through country, device and OS, and on time only at hour boundaries (``hours``, the day's end
of a full path) and at the paths' offers' start and end: so it is worked out once per
(country, device, OS) and kept on the snapshot (``SmartSnapshot.open_memo``) until the next such
instant or until this process learns of a newly full path. A click then pays one dict look-up
and one bisect for its path, close to what a plain link's click pays for its checks (issue 14:
within 10 % of it); the pick tells the click its path's link was checked (``Pick.open``).
"""

from __future__ import annotations

import random
import threading
from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache

from affiliates.core.db import db_id
from tracking.clickpath import rules
from tracking.clickpath.snapshots import SmartPathEntry, SmartSnapshot, Target
from tracking.models.clicks import ClickReason

PATH_PAUSED = "path_paused"
TIME_MISMATCH = "time_mismatch"
SKIPS_MAX = 255
DAY = 86_400
HOUR = 3_600
MEMO_MAX = 2_048  # (country, device, OS) combinations kept per snapshot

# path id -> unix time until which its cap is known to be reached (this process); the
# generation moves whenever a path is added, so the memos made before it are not used.
_capped: dict[int, float] = {}
_capped_lock = threading.Lock()
_capped_generation = 0


@dataclass(frozen=True, slots=True)
class Pick:
    entry: SmartPathEntry
    skips: str  # "path_id:reason" of each path skipped, space-separated
    bound: bool  # the visitor's cookie chose it
    # The path passed its link's checks for this visitor (reason_before_caps was OK), so the
    # click need not run them again; False for the catch-all taken because no path was open.
    open: bool = False
    fallback: Target | None = None  # where the path's link sends a refused click (open only)


@dataclass(frozen=True, slots=True)
class OpenPaths:
    """The paths open to one (country, device, OS), from ``since`` until ``until``."""

    entries: tuple[SmartPathEntry, ...]
    bounds: tuple[int, ...]  # the entries' weights, summed up to each (for the draw's bisect)
    picks: tuple[Pick, ...]  # per entry, the pick of it (drawn, not bound): made once, not per click
    skips: str
    until: float
    generation: int


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


def _draw(snap: SmartSnapshot, visitor: str, total: int) -> float:
    """The draw's point in [0, total): from the visitor when visitors are bound (the same
    visitor draws the same path while the snapshot's version holds), else random. ``visitor``
    is the click's hash of IP and user agent (visitor_ids.visitor_hash, which its uniqueness key
    needs anyway): uniform, so its first 52 bits mixed with 52 bits of the snapshot's own
    (``draw_salt``, a hash of token and version) are a uniform point, with no hash per click
    (and small enough integers that the arithmetic stays on its fast paths)."""
    if snap.sticky_seconds and visitor:
        return ((int(visitor[:13], 16) ^ snap.draw_salt) * total) >> 52
    return random.random() * total


def _open_paths(snap: SmartSnapshot, *, now: float, country: str, device: str, os_name: str) -> OpenPaths:
    entries: list[SmartPathEntry] = []
    bounds: list[int] = []
    skips: list[str] = []
    total = 0
    until = now - now % HOUR + HOUR  # hours and the day's end of a full path change on the hour
    for entry in snap.paths:
        for instant in (entry.link.starts_at, entry.link.ends_at):
            if instant is not None and now < instant < until:
                until = instant
        refusal = path_refusal(entry, now=now, country=country, device=device, os_name=os_name)
        if refusal:
            skips.append(f"{entry.path_id}:{refusal}")
        else:
            entries.append(entry)
            total += entry.weight
            bounds.append(total)
    skipped = " ".join(skips)[:SKIPS_MAX] if skips else ""
    picks = tuple(
        Pick(
            e,
            skipped,
            False,
            True,
            rules.fallback_pick(e.link, country=country, device=device, os_name=os_name),
        )
        for e in entries
    )
    return OpenPaths(tuple(entries), tuple(bounds), picks, skipped, until, _capped_generation)


def _fallback(entry: SmartPathEntry, country: str, device: str, os_name: str) -> Target | None:
    return rules.fallback_pick(entry.link, country=country, device=device, os_name=os_name)


def open_paths(snap: SmartSnapshot, *, now: float, country: str, device: str, os_name: str) -> OpenPaths:
    """The paths open to this visitor now, from the snapshot's memo while it holds."""
    memo = snap.open_memo
    key = (country, device, os_name)
    found: OpenPaths | None = memo.get(key)
    if found is None or now >= found.until or found.generation != _capped_generation:
        found = _open_paths(snap, now=now, country=country, device=device, os_name=os_name)
        if len(memo) >= MEMO_MAX:
            memo.clear()
        memo[key] = found
    return found


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
    """The path this click takes, or None when the smart link has no path at all. ``visitor``:
    visitor_ids.visitor_hash of the click's IP and user agent."""
    # open_paths, inlined while its memo holds: this runs on every smart-link click.
    found: OpenPaths | None = snap.open_memo.get((country, device, os_name))
    if found is None or now >= found.until or found.generation != _capped_generation:
        found = open_paths(snap, now=now, country=country, device=device, os_name=os_name)
    entries = found.entries
    if snap.sticky_seconds and cookie_header:
        bound = _bound_path(snap, cookie_header)
        for i, entry in enumerate(entries):
            if entry.path_id == bound:
                return replace(found.picks[i], bound=True)
    bounds = found.bounds
    if entries and bounds[-1] > 0:
        i = bisect_right(bounds, _draw(snap, visitor, bounds[-1]))
        return found.picks[i] if i < len(bounds) else found.picks[-1]  # a guard: the point is below the total
    chosen = snap.catch_all or (snap.paths[0] if snap.paths else None)
    return None if chosen is None else Pick(chosen, found.skips, bound=False)


def verdict_note(pick: Pick, final: str, *, now: float) -> None:
    """Remember a path found full by the durable write, until the UTC day ends."""
    global _capped_generation
    if final == ClickReason.CAP_REACHED:
        with _capped_lock:
            _capped[pick.entry.path_id] = now - now % DAY + DAY
            _capped_generation += 1


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
    global _capped_generation
    with _capped_lock:
        _capped.clear()
        _capped_generation += 1
