"""Group commit: concurrent click scripts share pipelines, and each caller gets its own answer."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import redis

from tracking.clickpath import redis_conn
from tracking.clickpath.group_commit import GroupCommit

pytestmark = pytest.mark.redis

# Returns the caller's own argument and how many calls were already counted, so answers that
# reached the wrong waiter would show.
COUNTER_LUA = "return {ARGV[1], redis.call('INCR', KEYS[1])}"


def _client() -> redis.Redis:
    client = redis_conn.client()
    assert client is not None
    return client


def test_each_of_many_concurrent_callers_gets_its_own_acknowledged_result() -> None:
    key = f"t-gc-{uuid.uuid4().hex}"
    commit = GroupCommit(_client(), COUNTER_LUA, wait_seconds=10)
    answers: dict[int, Any] = {}

    def caller(n: int) -> None:
        answers[n] = commit([key], [n])

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {n: int(a[0]) for n, a in answers.items()} == {n: n for n in range(200)}
    assert sorted(a[1] for a in answers.values()) == list(range(1, 201))  # every one ran once
    assert int(_client().get(key) or 0) == 200
    _client().delete(key)


def test_it_loads_a_script_redis_does_not_know_without_running_a_call_twice() -> None:
    # A script text Redis has never seen answers NOSCRIPT, as after a Redis restart (the
    # shared Redis's script cache is not flushed here: other test runs use it).
    key = f"t-gc-{uuid.uuid4().hex}"
    commit = GroupCommit(_client(), COUNTER_LUA + " -- " + key, wait_seconds=10)
    assert not _client().script_exists(commit.sha)[0]
    assert commit([key], ["a"])[1] == 1
    assert commit([key], ["b"])[1] == 2
    _client().delete(key)


def test_a_script_error_reaches_its_caller_as_an_exception() -> None:
    commit = GroupCommit(_client(), "return redis.call('INCR', KEYS[1], 'extra')", wait_seconds=10)
    with pytest.raises(redis.ResponseError):
        commit([f"t-gc-{uuid.uuid4().hex}"], [])


def test_an_unreachable_redis_wakes_the_caller_with_a_connection_error() -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    commit = GroupCommit(dead, COUNTER_LUA, wait_seconds=5)
    with pytest.raises(redis_conn.ERRORS):
        commit(["k"], [1])
