"""The event loop's script batcher: one command per batch, each caller its own answer, and
every failure reaches the callers it concerns (real Redis; our own server where one is killed)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

from tracking.clickpath.aio_redis import ScriptBatcher
from tracking.tests.clickpath.conftest import OwnRedis, spare_port

pytestmark = pytest.mark.redis

# Returns the caller's own argument and how many calls were counted before, so an answer that
# reached the wrong caller would show.
COUNTER_LUA = "return {ARGV[1], redis.call('INCR', KEYS[1])}"
FAILS_ON_BAD = "if ARGV[1] == 'bad' then return redis.call('INCR', KEYS[1], 'x') end return ARGV[1]"


def run(coro: Any) -> Any:
    """Run on a loop of its own in a thread of its own: the browser tests' Playwright keeps an
    event loop running in the main thread, where asyncio.run would refuse."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_concurrent_callers_share_commands_and_each_gets_its_own_answer() -> None:
    key = f"t-aio-{uuid.uuid4().hex}"
    batcher = ScriptBatcher(settings.REDIS_URL, COUNTER_LUA, timeout=5)
    sent = []
    real_send = batcher._batch.flush

    async def counting_send(batch: Any) -> Any:
        sent.append(len(batch))
        return await real_send(batch)

    batcher._batch.flush = counting_send

    async def main() -> list[Any]:
        return await asyncio.gather(*(batcher([key], [n]) for n in range(300)))

    answers = run(main())
    assert [int(arg) for arg, _ in answers] == list(range(300))
    assert sorted(count for _, count in answers) == list(range(1, 301))
    assert sum(sent) == 300
    assert len(sent) < 300  # batched: far fewer commands than calls
    redis.Redis.from_url(settings.REDIS_URL).delete(key)


def test_a_failing_call_fails_alone() -> None:
    batcher = ScriptBatcher(settings.REDIS_URL, FAILS_ON_BAD, timeout=5)

    async def main() -> list[Any]:
        key = f"t-aio-{uuid.uuid4().hex}"
        return await asyncio.gather(*(batcher([key], [a]) for a in ("a", "bad", "b")), return_exceptions=True)

    good, bad, other = run(main())
    assert (good, other) == (b"a", b"b")
    assert isinstance(bad, redis.ResponseError)


def test_a_restarted_redis_gets_the_script_again_and_a_killed_one_fails_the_batch(tmp_path: Path) -> None:
    server = OwnRedis(tmp_path)
    server.start()
    key = f"t-aio-{uuid.uuid4().hex}"
    batcher = ScriptBatcher(server.url, COUNTER_LUA, timeout=2)

    async def main() -> None:
        assert (await batcher([key], ["x"]))[1] == 1
        redis.Redis.from_url(server.url).script_flush()  # as a restart without persistence would
        assert (await batcher([key], ["y"]))[1] == 2
        server.kill()
        failed = await asyncio.gather(*(batcher([key], [n]) for n in range(5)), return_exceptions=True)
        assert all(isinstance(e, redis.ConnectionError) for e in failed)
        server.start()  # the append-only file keeps the counter
        assert (await batcher([key], ["z"]))[1] == 3

    try:
        run(main())
    finally:
        server.kill()


def test_a_silent_server_times_the_batch_out() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    batcher = ScriptBatcher(url, COUNTER_LUA, timeout=0.3)

    async def main() -> list[Any]:
        return await asyncio.gather(*(batcher(["k"], [n]) for n in range(3)), return_exceptions=True)

    try:
        assert all(isinstance(e, redis.TimeoutError) for e in run(main()))
    finally:
        silent.close()


def test_nothing_listening_is_a_connection_error() -> None:
    batcher = ScriptBatcher(f"redis://127.0.0.1:{spare_port()}/0", COUNTER_LUA, timeout=0.5)
    with pytest.raises(redis.ConnectionError):
        run(batcher(["k"], ["v"]))


def test_the_url_password_and_database_are_used(tmp_path: Path) -> None:
    server = OwnRedis(tmp_path, password="s3cret")
    server.start()
    try:
        batcher = ScriptBatcher(f"redis://:s3cret@127.0.0.1:{server.port}/3", COUNTER_LUA, timeout=2)
        assert run(batcher(["counted"], ["v"])) == [b"v", 1]
        assert redis.Redis(port=server.port, password="s3cret", db=3).get("counted") == b"1"
        wrong = ScriptBatcher(f"redis://:wrong@127.0.0.1:{server.port}/3", COUNTER_LUA, timeout=2)
        with pytest.raises(redis.ResponseError):
            run(wrong(["counted"], ["v"]))
    finally:
        server.kill()
