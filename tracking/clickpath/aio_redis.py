"""The click script in Redis for the edge: the clicks of an event loop share one command.

Every click runs one Lua script in Redis (store.click_lua()). Sent one by one, each click pays
its own write/read system calls and Redis its own per-command overhead; on two cores that round
trip was most of a click's cost. So the clicks that an event loop's requests send while the
previous batch is in flight go to Redis as ONE ``EVALSHA`` of a wrapper that runs the script
once per call inside Redis, and each request answers only after Redis has acknowledged the
batch holding its call: durability is exactly that of a direct call. A click is a coroutine
awaiting a future that the loop resolves when the answer arrives, so a worker serves thousands
of clicks a second on one thread without a thread switch (BENCHMARKS.md).

One connection per event loop, one batch in flight on it (loop_batch.py): the batch grows by
itself with the load (one call when idle, dozens under a burst), and there is no timer to
tune. A Redis error inside one call fails that call only (the wrapper's ``pcall``); a connection error or a
timeout fails the whole batch in flight and everything queued behind it, and drops the
connection. Those callers take the database fallback, where the click id makes a script that
did run before the connection broke harmless (the writer skips a known id).
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import struct
import weakref
from collections.abc import Sequence
from typing import Any, cast

import hiredis
from redis.connection import SSLConnection, UnixDomainSocketConnection, parse_url
from redis.exceptions import ConnectionError, DataError, ResponseError, TimeoutError

from tracking.clickpath.loop_batch import LoopBatch

# Calls per command at most: keeps one script's run in Redis (which blocks every other client)
# to a few milliseconds however many clicks queue up.
MAX_BATCH = 256

# ARGV[1] is the number of calls; ARGV[2] their shapes: per call its key count and its argument
# count, each as two bytes (big-endian), read with one string.byte; then the calls' arguments
# one after another, as KEYS are the calls' keys. (Two counts per call as arguments of their
# own cost Redis an argument object and a Lua string each, and the client their packing, for
# every click.) The script body sees its own KEYS and
# ARGV as function parameters, which shadow the globals. A Lua error inside one call becomes
# an error reply in that call's slot of the answer. ``stream_add(key, line)`` collects lines
# that are written after the last call as ONE stream entry per stream (field ``x``, the lines
# joined by newlines): one XADD per batch instead of one per call, and one entry for the
# consumer to parse. ``num(s)`` is ``tonumber(s)`` remembered for the batch: Lua reads a
# number with the C library's strtod, a visible part of Redis's time per call, and a batch
# repeats the same few (counts, limits, windows) in every call. ``clock()`` is Redis's TIME
# in unix seconds (a string, and a number), asked once per batch: its calls run within the
# same instant. ``scratch`` is a table a script may keep working state in across the batch's
# calls (a new table per call costs Redis about 1.7k instructions).
_WRAPPER = """
local nums = {}
local function num(s)
  local n = nums[s]
  if n == nil then
    n = tonumber(s)
    nums[s] = n
  end
  return n
end
local seconds, seconds_n
local function clock()
  if seconds == nil then
    seconds = redis.call('TIME')[1]
    seconds_n = tonumber(seconds)
  end
  return seconds, seconds_n
end
local scratch = {}
local streams, stream_keys = {}, {}
local function stream_add(key, line)
  local lines = streams[key]
  if not lines then
    lines = {}
    streams[key] = lines
    stream_keys[#stream_keys + 1] = key
  end
  lines[#lines + 1] = line
end
local function body(KEYS, ARGV)
%s
end
local out, k, a, shapes = {}, 0, 3, ARGV[2]
for c = 1, tonumber(ARGV[1]) do
  local k1, k2, a1, a2 = string.byte(shapes, c * 4 - 3, c * 4)
  local nk, na = k1 * 256 + k2, a1 * 256 + a2
  local keys, args = {unpack(KEYS, k + 1, k + nk)}, {unpack(ARGV, a, a + na - 1)}
  k, a = k + nk, a + na
  local ok, res = pcall(body, keys, args)
  if ok then
    out[c] = res
  elseif type(res) == 'table' and res.err then
    out[c] = res
  else
    out[c] = {err = tostring(res)}
  end
end
for _, key in ipairs(stream_keys) do
  redis.call('XADD', key, '*', 'x', table.concat(streams[key], '\\n'))
end
return out
"""


_Call = tuple[Sequence[Any], Sequence[Any]]  # one call's KEYS and ARGV


def _shapes(counts: list[int]) -> bytes:
    """The calls' key and argument counts as the wrapper reads them (two bytes each). A call
    past 65,535 of either (Lua could not unpack it anyway) fails its batch as a Redis error
    would, so its clicks take the database path rather than being lost."""
    try:
        return struct.pack(f">{len(counts)}H", *counts)
    except struct.error as exc:
        raise DataError(f"a script call too large to send: {exc}") from exc


class _Link(asyncio.Protocol):
    """One Redis connection carrying one command at a time: ``roundtrip`` sends it and awaits
    its reply. A plain asyncio protocol with hiredis's parser, not redis-py's asyncio client:
    that client's stream reader, per-read timeout task and health bookkeeping cost ten times
    what the batch itself costs (measured on the click path)."""

    def __init__(self) -> None:
        self.parser = hiredis.Reader(replyError=ResponseError)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Any] | None = None
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)
        reply = self.parser.gets()
        if reply is not False and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = ConnectionError(f"Redis closed the connection: {exc or 'EOF'}")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    def _expire(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(TimeoutError("Redis did not answer in time"))
        if self.transport is not None:
            self.transport.abort()

    async def roundtrip(self, payload: bytes, timeout: float) -> Any:
        if self.lost is not None or self.transport is None:
            raise self.lost or ConnectionError("not connected")
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        self.transport.write(payload)
        timer = loop.call_later(timeout, self._expire)  # one timer per batch, not per click
        try:
            reply = await self.waiter
        finally:
            timer.cancel()
        if isinstance(reply, ResponseError):
            raise reply
        return reply


async def _connect(url: str, timeout: float) -> _Link:
    """Open and prepare (AUTH, SELECT) a connection as redis-py would for ``url``."""
    params = parse_url(url)
    loop = asyncio.get_running_loop()
    kind = params.get("connection_class")
    try:
        if kind is UnixDomainSocketConnection:
            opening = loop.create_unix_connection(_Link, params["path"])
        else:
            tls = ssl.create_default_context() if kind is SSLConnection else None
            opening = loop.create_connection(
                _Link, params.get("host", "localhost"), params.get("port", 6379), ssl=tls
            )
        _, link = await asyncio.wait_for(opening, timeout)
    except (OSError, asyncio.TimeoutError) as exc:  # noqa: UP041 (3.11: not yet the builtin)
        raise ConnectionError(f"cannot reach Redis: {exc}") from exc
    if params.get("password"):
        user = [params["username"]] if params.get("username") else []
        await link.roundtrip(_pack(["AUTH", *user, params["password"]]), timeout)
    if params.get("db"):
        await link.roundtrip(_pack(["SELECT", params["db"]]), timeout)
    return link


class ScriptBatcher:
    """Runs one Lua script (written for ONE call, as for ``EVAL``) for many coroutines of one
    event loop; ``await batcher(keys, args)`` returns what the script returned for them, or
    raises what it raised."""

    def __init__(self, url: str, script: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self.script = _WRAPPER % script
        self.sha = hashlib.sha1(self.script.encode()).hexdigest()  # noqa: S324 (Redis's script id)
        self._link: _Link | None = None
        self.closed = False  # batchers_close: out of the registry (callers that kept it ask)
        self._batch: LoopBatch[_Call, Any] = LoopBatch(self._send, max_batch=MAX_BATCH, failed=self._failed)

    async def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        return await self._batch((keys, args))

    def submit(self, keys: Sequence[Any], args: Sequence[Any]) -> asyncio.Future[Any]:
        """``__call__`` without its coroutine, from inside the running loop: the future of the
        call's result (the click path awaits one per click)."""
        return self._batch((keys, args))

    async def _failed(self, batch: Sequence[_Call], error: Exception) -> list[Any]:
        self._drop()  # the connection's state is unknown: the next batch connects anew
        raise error

    async def _send(self, batch: Sequence[_Call]) -> list[Any]:
        """One EVALSHA for the batch; its answer holds each call's result (a ResponseError for
        a call whose script failed)."""
        keys: list[Any] = []
        argv: list[Any] = []
        counts: list[int] = []
        for call_keys, call_args in batch:
            keys += call_keys
            argv += call_args
            counts += (len(call_keys), len(call_args))
        payload = _pack(["EVALSHA", self.sha, len(keys), *keys, len(batch), _shapes(counts), *argv])
        try:
            if self._link is None:
                self._link = await _connect(self.url, self.timeout)
            try:
                return cast("list[Any]", await self._link.roundtrip(payload, self.timeout))
            except ResponseError as exc:
                if not str(exc).startswith("NOSCRIPT"):
                    raise
                # A new or restarted Redis does not know the script yet; NOSCRIPT fails before
                # any effect, so sending the same batch again cannot run a call twice.
                await self._link.roundtrip(_pack(["SCRIPT", "LOAD", self.script]), self.timeout)
                return cast("list[Any]", await self._link.roundtrip(payload, self.timeout))
        except asyncio.CancelledError:
            self._drop()  # a reply may still be on its way: this connection is out of step
            raise

    def _drop(self) -> None:
        link, self._link = self._link, None
        if link is not None and link.transport is not None:
            link.transport.abort()


# One batcher per (event loop, Redis URL, script): a loop's connection cannot be used by
# another loop, and tests point REDIS_URL at servers of their own.
_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], ScriptBatcher]] = (
    weakref.WeakKeyDictionary()
)


def batchers_close() -> None:
    """Close this event loop's Redis connections (the edge's lifespan shutdown, tests)."""
    global _last
    _last = None
    for batcher in _batchers.pop(asyncio.get_running_loop(), {}).values():
        batcher.closed = True
        batcher._drop()


_last: tuple[Any, str, str, ScriptBatcher] | None = None


def batcher_for(url: str, script: str, timeout: float) -> ScriptBatcher:
    global _last
    loop = asyncio.get_running_loop()
    last = _last
    # Every click asks: answer the usual case (same loop, URL and script) without touching the
    # weak dictionary, whose lookups build a weak reference each time.
    if last is not None and last[0] is loop and last[1] == url and last[2] == script:
        return last[3]
    mine = _batchers.setdefault(loop, {})
    found = mine.get((url, script))
    if found is None:
        found = mine[(url, script)] = ScriptBatcher(url, script, timeout)
    _last = (loop, url, script, found)
    return found


def _pack(args: list[Any]) -> bytes:
    """One command in the Redis protocol (RESP): an array of bulk strings, packed by hiredis
    in C (a batch has hundreds of arguments; packing them in Python cost 3x as much)."""
    packed: bytes = hiredis.pack_command(tuple(args))
    return packed
