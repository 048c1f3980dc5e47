"""Group commit of the click script: concurrent requests share one Redis command.

Every click runs one Lua script in Redis. Sent one by one, each request thread pays its own
write/read system calls, wake-ups and client-library work, and Redis its own per-command
overhead; on two cores that round trip was most of a click's cost. Here the request thread
hands its call to the process's flusher thread and waits; the flusher sends everything that
queued up while the previous batch was in flight as ONE ``EVALSHA`` of a wrapper that runs the
script once per call inside Redis (no fixed delay: under light load a batch is one call, under
heavy load it grows by itself). One command instead of a pipeline of many: Redis parses, looks
up and enters Lua once per batch, and the client encodes and parses one command.

Each request still answers only after Redis has acknowledged its own script, so durability is
exactly that of a direct call. A script error (a Lua error inside one call) reaches that call's
waiter only: the wrapper runs each call under ``pcall``. A connection error reaches every waiter
of the batch, which then take the database fallback (the click id is the idempotency key there,
so a script that did run before the connection broke cannot make a second click).
"""

from __future__ import annotations

import _thread
import os
import threading
from collections.abc import Sequence
from queue import Empty, SimpleQueue
from typing import Any

import hiredis
import redis
from redis.exceptions import NoScriptError, ResponseError

# Calls per command at most: keeps one script's run in Redis (which blocks every other client)
# to a few milliseconds however many threads queue up.
MAX_BATCH = 256

# ARGV[1] is the number of calls; then per call: its key count, its argument count, its
# arguments. KEYS are the calls' keys one after another. The script body sees its own KEYS and
# ARGV as function parameters, which shadow the globals. A Lua error inside one call becomes
# an error reply in that call's slot of the answer. ``stream_add(key, line)`` collects lines
# that are written after the last call as ONE stream entry per stream (field ``x``, the lines
# joined by newlines): one XADD per batch instead of one per call, and one entry for the
# consumer to parse.
_WRAPPER = """
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
local out, k, a = {}, 0, 2
for c = 1, tonumber(ARGV[1]) do
  local nk, na = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local keys, args = {unpack(KEYS, k + 1, k + nk)}, {unpack(ARGV, a + 2, a + 1 + na)}
  k, a = k + nk, a + 2 + na
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


class _Call:
    __slots__ = ("args", "error", "keys", "lock", "result")

    def __init__(self, keys: Sequence[Any], args: Sequence[Any]) -> None:
        self.keys, self.args = keys, args
        # Held until the flusher has this call's answer: a bare lock is the cheapest way for
        # one thread to wake another (an Event costs a Condition and a fresh lock per wait).
        self.lock = _thread.allocate_lock()
        self.lock.acquire()
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs one Lua script for many threads, batched into one command by one flusher thread.

    ``script`` is the body for ONE call, written as for ``EVAL`` (it reads ``KEYS`` and
    ``ARGV`` and returns a value); calling the instance runs it with ``keys`` and ``args`` and
    returns what it returned, or raises what it raised.
    """

    def __init__(self, client: redis.Redis, script: str, wait_seconds: float) -> None:
        self.client = client
        self.script = _WRAPPER % script
        self.sha = client.register_script(self.script).sha
        self.wait_seconds = wait_seconds
        self._queue: SimpleQueue[_Call] = SimpleQueue()
        self._start_lock = threading.Lock()
        self._pid = 0

    def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        call = _Call(keys, args)
        if self._pid != os.getpid():
            self._start()
        self._queue.put(call)
        if not call.lock.acquire(timeout=self.wait_seconds):
            raise redis.TimeoutError("click script not acknowledged in time")
        if call.error is not None:
            raise call.error
        return call.result

    def _start(self) -> None:
        """Start this process's flusher (first use, or a forked child: the thread is not ours)."""
        with self._start_lock:
            if self._pid != os.getpid():
                self._queue = SimpleQueue()
                threading.Thread(
                    target=self._run, args=(self._queue,), name="click-group-commit", daemon=True
                ).start()
                self._pid = os.getpid()

    def _run(self, queue: SimpleQueue[_Call]) -> None:
        while True:
            batch = [queue.get()]
            try:
                while len(batch) < MAX_BATCH:
                    batch.append(queue.get_nowait())
            except Empty:
                pass
            try:
                self._send(batch)
            except Exception as exc:  # every waiter of the batch must be woken with it
                for call in batch:
                    call.error = exc
            for call in batch:
                call.lock.release()

    def _send(self, batch: list[_Call], *, reload: bool = True) -> None:
        keys: list[Any] = []
        argv: list[Any] = [len(batch)]
        for call in batch:
            keys += call.keys
            argv += (len(call.keys), len(call.args), *call.args)
        try:
            results = self._execute(_pack(["EVALSHA", self.sha, len(keys), *keys, *argv]))
        except NoScriptError:
            if not reload:
                raise
            # Redis restarted and forgot the script; NOSCRIPT fails before any effect, so
            # sending the same batch again cannot run a call twice.
            self.client.script_load(self.script)
            self._send(batch, reload=False)
            return
        for call, result in zip(batch, results, strict=True):
            if isinstance(result, ResponseError):
                call.error = result
            else:
                call.result = result

    def _execute(self, payload: bytes, *, retry: bool = True) -> Any:
        """Send one packed command on a pooled connection and read its answer.

        Packed here rather than by redis-py, whose packer re-copies its growing buffer for
        every argument: a batch has hundreds of arguments, and that copying was most of the
        flusher's time (``_pack`` hands them to hiredis's C packer in one call).

        A connection error is retried once on a fresh connection, which is what redis-py itself
        does: it is nearly always a pooled socket that Redis closed while idle (a restart); a
        batch that did run before the socket broke is then run again, which the click id makes
        harmless for the stored click (the writer skips a known id).
        """
        pool = self.client.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_packed_command([payload])
            return conn.read_response()
        except ResponseError:
            raise  # an error answer: the connection itself is fine
        except redis.ConnectionError:
            conn.disconnect()
            if not retry:
                raise
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)
        return self._execute(payload, retry=False)


def _pack(args: list[Any]) -> bytes:
    """One command in the Redis protocol (RESP): an array of bulk strings, packed by hiredis
    in C (a batch has hundreds of arguments; packing them in Python cost 3x as much)."""
    packed: bytes = hiredis.pack_command(tuple(args))
    return packed
