"""Batching on an event loop: the calls its coroutines make while a batch is in flight go out
together as the next one.

Used by the edge for what each click and postback waits on: the click script in Redis
(clickpath/aio_redis.py) and the postbacks' click lookups and COPYs in PostgreSQL
(conversions/aio_db.py). A batch grows with the load by itself (one call when idle, dozens in a
burst) and there is no timer to tune; one batch is in flight at a time, so a batcher needs one
connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# ``flush(items)`` answers one result per item, in order; an exception in the list fails only
# that item's caller. If ``flush`` raises, ``failed(items, error)`` decides: it returns what
# the items get instead (e.g. each one sent again on its own), or raises, and then every caller
# of the batch gets that error.
Flush = Callable[[Sequence[T]], Awaitable[list[R | BaseException]]]
Failed = Callable[[Sequence[T], Exception], Awaitable[list[R | BaseException]]]


async def _raise(items: Sequence[object], error: Exception) -> list[object]:
    raise error


class LoopBatch(Generic[T, R]):
    """``await batch(item)`` returns the item's result from ``flush``, or raises its error.

    ``batch(item)`` is a plain call that returns the item's future, not a coroutine: every
    click awaits one, and a coroutine frame around the future cost a click more than the
    queueing itself."""

    def __init__(self, flush: Flush[T, R], *, max_batch: int, failed: Failed[T, R] | None = None) -> None:
        self.flush, self.max_batch = flush, max_batch
        self.failed: Failed[T, R] = failed or _raise  # type: ignore[assignment]
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None

    def __call__(self, item: T) -> asyncio.Future[R]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((item, future))
        if not self._draining:
            # A task, not run inline: the requests the loop handles in this same iteration join
            # the first batch instead of waiting for a second one.
            self._draining = True
            self._task = loop.create_task(self._drain())  # kept: the loop holds tasks weakly
        return future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                await self._run(batch)
        finally:
            self._draining = False

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        try:
            try:
                results = await self.flush(items)
            except Exception as exc:
                results = await self.failed(items, exc)
        except BaseException as exc:  # every caller of the batch must hear of it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise  # cancelled: the loop is going away
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its request was cancelled (client gone)
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
