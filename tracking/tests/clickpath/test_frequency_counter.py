"""The frequency cap's counter in the click script (store.click_lua()), run in Redis as the edge
runs it: exact under a burst, counting only clicks inside the window, and reading a counter of
the other kind (a sorted set from before the string, or a limit changed across
FREQ_STRING_LIMIT) with its count intact."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.conf import settings as django_settings

from tracking.clickpath import redis_conn, store
from tracking.clickpath.aio_redis import ScriptBatcher
from tracking.clickpath.links import CapRule
from tracking.clickpath.policy import FreqCheck, FreqRule

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not django_settings.REDIS_URL, reason="the script runs in Redis"),
]
DAY = 86_400
LIFE = DAY * 3 // 2  # a string counter's TTL when written: a window and a half
SMALL, LARGE = 3, store.FREQ_STRING_LIMIT + 6  # a string counter, a sorted set


@pytest.fixture(autouse=True)
def _own_keys(settings: Any) -> Iterator[None]:
    settings.CLICK_REDIS_PREFIX = prefix = f"t-freq-{uuid.uuid4().hex[:12]}"
    yield
    client = redis_conn.client_always()
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def _record() -> dict[str, Any]:
    return {
        "kind": "c", "id": uuid.uuid4().hex, "created_at": 1_720_000_000_123, "offer_id": 1,
        "publisher_id": 2, "ip": "1.2.3.4", "user_agent": "ua", "country": "US", "device": "desktop",
        "os": "linux", "sub1": "", "sub2": "", "sub3": "", "sub4": "", "sub5": "", "source": "",
        "referer": "", "reason": "", "fraud_flags": [], "fallback_if_refused": None,
    }  # fmt: skip


def clicks(
    n: int,
    limit: int,
    visitor: str = "v" * 20,
    *,
    more: tuple[FreqRule, ...] = (),
    caps: tuple[CapRule, ...] = (),
) -> list[str]:
    """The reasons of ``n`` clicks of one visitor sent together (one batch, as a burst on one
    event loop is), against a one-day cap of ``limit`` (then the caps ``more``), and the click
    caps ``caps``."""
    freq = FreqCheck(visitor, (FreqRule("o1", 1, limit), *more), None)
    return batch_reasons([(freq, caps)] * n)


def batch_reasons(shapes: list[tuple[FreqCheck | None, tuple[CapRule, ...]]]) -> list[str]:
    """The reasons of one click per (frequency caps, click caps), the calls sent together."""
    calls = [
        store.click_script_call(_record(), caps=caps, window_hours=0, ip="1.2.3.4", freq=freq)
        for freq, caps in shapes
    ]
    batcher = ScriptBatcher(django_settings.REDIS_URL, store.click_lua(), timeout=5)

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(batcher(keys, args) for keys, args in calls)))

    with ThreadPoolExecutor(1) as pool:  # a loop of its own
        answers = pool.submit(asyncio.run, main()).result()
    return [store.verdict_reason(answer) for answer in answers]


def counter_key(visitor: str = "v" * 20) -> str:
    return redis_conn.key("fq", "o1", 1, visitor)


def redis_now(client: Any) -> int:
    return int(client.time()[0])


@pytest.mark.parametrize("limit", [SMALL, LARGE])
def test_a_burst_of_one_visitor_sends_exactly_the_limit_to_the_offer(limit: int) -> None:
    reasons = clicks(limit + 20, limit)
    assert reasons.count("") == limit
    assert reasons.count("frequency_cap") == 20
    assert clicks(1, limit) == ["frequency_cap"]  # the next batch is refused too
    assert clicks(1, limit, visitor="w" * 20) == [""]  # another visitor has a count of their own


def test_only_the_clicks_inside_the_window_count() -> None:
    client = redis_conn.client_always()
    now = redis_now(client)
    key = counter_key()
    # Two earlier clicks: one a day and a minute ago (outside), one a minute ago (inside).
    client.set(key, f"{now - DAY - 60}{now - 60}", ex=DAY)
    assert clicks(1, 2) == [""]  # one click inside: room for one more
    assert clicks(1, 2) == ["frequency_cap"]
    stored = client.get(key).decode()
    assert stored[:10] == str(now - 60)  # only the newest ``limit`` times are kept
    assert len(stored) == 20
    assert DAY < client.ttl(key) <= LIFE  # written anew: a new TTL
    # The limit-th newest click leaves the window: the visitor has room again.
    client.set(key, f"{now - DAY - 5}{now - 30}", ex=DAY)
    assert clicks(1, 2) == [""]


def test_a_visitors_first_click_makes_the_counter_with_its_time_and_the_windows_expiry() -> None:
    client = redis_conn.client_always()
    assert clicks(1, SMALL) == [""]
    stored = client.get(counter_key()).decode()
    assert len(stored) == 10
    assert abs(int(stored) - redis_now(client)) <= 2
    assert LIFE - 5 < client.ttl(counter_key()) <= LIFE
    client.expire(counter_key(), LIFE - 100)
    assert clicks(1, SMALL) == [""]  # the next click reads it and appends its own time
    assert len(client.get(counter_key())) == 20
    assert client.ttl(counter_key()) <= LIFE - 100  # and leaves the TTL as it was


@pytest.mark.parametrize("age", [0, DAY // 2 - 30, DAY // 2 + 30, DAY - 30, LIFE - 30])
@pytest.mark.parametrize("held", [1, SMALL - 1])
def test_a_counted_click_always_outlives_its_window_in_the_counter(age: int, held: int) -> None:
    """The counter's rule: a string lives at least 1.5 windows from its oldest time. Whatever
    the oldest time's age and however many times it holds, a counted click leaves a key that
    lives at least one more window (so its own time counts for all of it), and no longer than
    1.5 windows."""
    client = redis_conn.client_always()
    now, key = redis_now(client), counter_key()
    before = "".join(str(now - age + k) for k in range(held))
    client.set(key, before, ex=LIFE - age)  # the shortest TTL the rule allows it
    assert clicks(1, SMALL) == [""]
    stored = client.get(key).decode()
    assert stored[:-10] == before
    assert abs(int(stored[-10:]) - now) <= 2
    assert DAY - 5 <= client.ttl(key) <= LIFE


def test_an_old_counter_is_written_anew_with_a_fresh_ttl_and_a_young_one_appended_to() -> None:
    client = redis_conn.client_always()
    now, key = redis_now(client), counter_key()
    client.set(key, str(now - DAY // 2 - 60), ex=DAY - 60)  # oldest over half a window old
    assert clicks(1, SMALL) == [""]
    assert LIFE - 5 < client.ttl(key) <= LIFE
    client.set(key, str(now - DAY // 2 + 60), ex=DAY + 60)  # under half a window old
    assert clicks(1, SMALL) == [""]
    assert DAY < client.ttl(key) <= DAY + 60
    assert len(client.get(key)) == 20


def test_a_click_refused_by_a_later_cap_leaves_no_counter_behind() -> None:
    """Nothing is counted unless the click goes to the offer: a click that a later frequency
    cap or a click cap refuses leaves no counter of an earlier cap behind."""
    client = redis_conn.client_always()
    week, full = FreqRule("o2", 7, 1), redis_conn.key("fq", "o2", 7, "v" * 20)
    before = str(redis_now(client) - 60).encode()
    client.set(full, before, ex=7 * DAY)
    assert clicks(1, SMALL, more=(week,)) == ["frequency_cap"]
    assert not client.exists(counter_key())
    assert client.get(full) == before
    # A click cap of one a day: the second click of the batch finds it full, and the
    # frequency counter keeps the first click's time only.
    cap = CapRule("day", 1, per_publisher=False)
    assert clicks(2, SMALL, caps=(cap,)) == ["", "cap_reached"]
    assert len(client.get(counter_key())) == 10
    # Another visitor's first click, refused by the full click cap, makes no counter.
    assert clicks(1, SMALL, visitor="w" * 20, caps=(cap,)) == ["cap_reached"]
    assert not client.exists(counter_key("w" * 20))


def test_a_refused_click_leaves_the_counter_alone() -> None:
    client = redis_conn.client_always()
    assert clicks(2, 1) == ["", "frequency_cap"]
    assert len(client.get(counter_key())) == 10


def test_a_sorted_set_counter_from_before_keeps_its_count_and_lives_a_window_and_a_half() -> None:
    client = redis_conn.client_always()
    now, key = redis_now(client), counter_key()
    client.zadd(key, {"a": now - DAY - 60, "b": now - 100, "c": now - 50})
    client.expire(key, 5000)
    assert clicks(1, 2) == ["frequency_cap"]  # two of the set's clicks are inside the window
    assert client.type(key) == b"string"
    assert client.get(key).decode() == f"{now - 100}{now - 50}"
    assert LIFE - 5 < client.ttl(key) <= LIFE


def test_a_string_counter_meets_a_limit_raised_past_the_threshold() -> None:
    client = redis_conn.client_always()
    now, key = redis_now(client), counter_key()
    client.set(key, "".join(str(now - 100 + i) for i in range(LARGE)), ex=DAY)
    assert clicks(1, LARGE) == ["frequency_cap"]
    assert client.type(key) == b"zset"
    assert client.zcard(key) == LARGE
    assert clicks(1, LARGE + 1) == [""]
    assert client.zcard(key) == LARGE + 1


def test_calls_of_different_shapes_in_one_batch_keep_their_own_counts() -> None:
    """The script keeps its per-key state in tables of the batch (the wrapper's ``scratch``),
    not of the call: a call whose fifth key is a click cap, batched after one whose fifth key
    was a frequency cap, must still count its click cap, and the reverse."""
    client = redis_conn.client_always()
    cap = CapRule("day", 100, per_publisher=False)
    shapes: list[tuple[FreqCheck | None, tuple[CapRule, ...]]] = [
        (FreqCheck("a" * 20, (FreqRule("o1", 1, SMALL),), None), ()),
        (None, (cap,)),
        (FreqCheck("b" * 20, (FreqRule("o1", 1, SMALL),), None), (cap,)),
        (None, (cap,)),
        (FreqCheck("a" * 20, (FreqRule("o1", 1, SMALL),), None), ()),
    ]
    assert batch_reasons(shapes) == [""] * 5
    assert len(client.get(counter_key("a" * 20))) == 20
    assert len(client.get(counter_key("b" * 20))) == 10
    cap_keys = list(client.scan_iter(match=redis_conn.key("cap") + "*"))
    assert len(cap_keys) == 1
    assert client.get(cap_keys[0]) == b"3"
