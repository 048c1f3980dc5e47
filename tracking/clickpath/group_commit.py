"""Group commit of the click script: concurrent requests share one Redis round trip.

Every click runs one Lua script in Redis. Sent one by one, each request thread pays its own
write/read system calls and wake-ups, and Redis its own per-command I/O; on two cores that round
trip was most of a click's cost. Here the request thread hands its call to the process's flusher
thread and waits; the flusher sends everything that queued up while the previous batch was in
flight as one pipeline (no fixed delay: under light load a batch is one call, under heavy load it
grows by itself). Each request still answers only after Redis has acknowledged its own script,
so durability is exactly that of a direct call; an error reaches every waiter of that batch,
which then take the database fallback (the click id is the idempotency key there, so a script
that did run before the connection broke cannot make a second click).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import redis
from redis.exceptions import NoScriptError


class _Call:
    __slots__ = ("args", "done", "error", "keys", "result")

    def __init__(self, keys: Sequence[Any], args: Sequence[Any]) -> None:
        self.keys, self.args = keys, args
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs one Lua script for many threads, batched into pipelines by one flusher thread."""

    def __init__(self, client: redis.Redis, script: str, wait_seconds: float) -> None:
        self.client = client
        self.script = script
        self.sha = client.register_script(script).sha
        self.wait_seconds = wait_seconds
        self._queue: list[_Call] = []
        self._cond = threading.Condition()
        self._pid = 0

    def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        call = _Call(keys, args)
        with self._cond:
            if self._pid != os.getpid():  # first use, or a forked child: the thread is not ours
                self._pid = os.getpid()
                self._queue = []
                threading.Thread(target=self._run, name="click-group-commit", daemon=True).start()
            self._queue.append(call)
            self._cond.notify()
        if not call.done.wait(self.wait_seconds):
            raise redis.TimeoutError("click script not acknowledged in time")
        if call.error is not None:
            raise call.error
        return call.result

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                batch, self._queue = self._queue, []
            try:
                self._send(batch)
            except Exception as exc:  # every waiter of the batch must be woken with it
                for call in batch:
                    call.error = exc
            for call in batch:
                call.done.set()

    def _send(self, batch: list[_Call], *, reload: bool = True) -> None:
        pipe = self.client.pipeline(transaction=False)
        for call in batch:
            pipe.evalsha(self.sha, len(call.keys), *call.keys, *call.args)
        retry = []
        for call, result in zip(batch, pipe.execute(raise_on_error=False), strict=True):
            if reload and isinstance(result, NoScriptError):
                retry.append(call)  # NOSCRIPT fails before any effect: safe to send again
            elif isinstance(result, Exception):
                call.error = result
            else:
                call.result = result
        if retry:  # Redis restarted and forgot the script
            self.client.script_load(self.script)
            self._send(retry, reload=False)
