"""smart.py's memo of the paths open to a kind of visitor: it gives what a fresh look gives,
and is not used past the instants where that changes (an offer's end, the hour, a full path)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tracking.clickpath import smart, visitor_ids
from tracking.clickpath.snapshots import Link, SmartPathEntry, SmartSnapshot, Target

NOON = 1_767_268_800.0  # 2026-01-01 12:00 UTC
CATCH_ALL = Target(9, "https://rest.example.com/", 30)


def _link(offer_id: int, **fields: object) -> Link:
    base = Link(
        token=f"t{offer_id}", offer_id=offer_id, publisher_id=1, access_approved=True,
        publisher_active=True, offer_status="active", advertiser_active=True, starts_at=None,
        ends_at=None, landing_url=f"https://o{offer_id}.example.com/", attribution_window_days=30,
        deep_links_allowed=False, allowed_domains=(), target_countries=(), target_devices=(),
        target_os=(), unique_click_window_hours=24, fallback_chain=(CATCH_ALL,), fallback_url="",
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def _path(path_id: int, link: Link, **fields: object) -> SmartPathEntry:
    base = SmartPathEntry(
        path_id=path_id, weight=1, paused=False, countries=(), devices=(), os=(), hours=(),
        daily_cap=None, link=link,
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def _snap(*paths: SmartPathEntry) -> SmartSnapshot:
    return SmartSnapshot("s", 1, 1, 0, "v1", paths, _path(99, _link(9, fallback_chain=())))


@pytest.fixture(autouse=True)
def _forget() -> Iterator[None]:
    smart.capped_forget()
    yield
    smart.capped_forget()


def _pick(snap: SmartSnapshot, now: float, country: str = "US") -> smart.Pick:
    pick = smart.smart_pick(
        snap,
        now=now,
        country=country,
        device="desktop",
        os_name="windows",
        cookie_header="",
        visitor=visitor_ids.visitor_hash("8.8.8.8", "", now=now),
    )
    assert pick is not None
    return pick


def test_an_offer_that_ends_is_skipped_from_its_end_although_the_memo_was_made_before():
    ending = _path(1, _link(1, ends_at=NOON + 60))
    snap = _snap(ending)
    before = _pick(snap, NOON)
    assert (before.entry.path_id, before.open, before.fallback) == (1, True, CATCH_ALL)
    assert _pick(snap, NOON + 59) is before  # the memo's pick: nothing made per click
    after = _pick(snap, NOON + 60)
    assert (after.entry.path_id, after.open, after.skips) == (99, False, "1:offer_expired")


def test_a_path_of_some_hours_closes_on_the_hour():
    snap = _snap(_path(1, _link(1), hours=(12,)))
    assert _pick(snap, NOON + 3599).entry.path_id == 1
    assert _pick(snap, NOON + 3600).skips == "1:time_mismatch"


def test_a_path_found_full_is_skipped_by_the_next_click_of_the_same_kind_of_visitor():
    snap = _snap(_path(1, _link(1)), _path(2, _link(2), weight=0))
    first = _pick(snap, NOON)
    assert first.entry.path_id == 1
    smart.verdict_note(first, "cap_reached", now=NOON)
    second = _pick(snap, NOON + 1)
    assert (second.entry.path_id, second.skips) == (99, "1:cap_reached")  # path 2 weighs nothing


def test_visitors_of_another_country_get_their_own_answer():
    snap = _snap(_path(1, _link(1), countries=("DE",)), _path(2, _link(2), countries=("US",)))
    assert _pick(snap, NOON, "DE").entry.path_id == 1
    us = _pick(snap, NOON, "US")
    assert (us.entry.path_id, us.skips) == (2, "1:geo_mismatch")
    assert set(snap.open_memo) == {("DE", "desktop", "windows"), ("US", "desktop", "windows")}


def test_draws_follow_the_weights():
    snap = _snap(_path(1, _link(1), weight=3), _path(2, _link(2), weight=1), _path(3, _link(3), weight=0))
    found = smart.open_paths(snap, now=NOON, country="US", device="desktop", os_name="windows")
    assert found.bounds == (3, 4, 4)
    # The draw's point falls in a path's share of the total weight; a weightless path never wins.
    picks = [found.entries[smart.bisect_right(found.bounds, p / 100 * 4)].path_id for p in range(100)]
    assert (picks.count(1), picks.count(2), picks.count(3)) == (75, 25, 0)
