"""LoopBatch: calls made while a batch is in flight share the next one; each caller gets its
own result or error; a failed batch is handed to ``failed``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tracking.clickpath.loop_batch import LoopBatch


def run(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:  # Playwright's tests keep a loop running in this thread
        return pool.submit(asyncio.run, coro).result()


def test_calls_share_batches_and_each_gets_its_own_answer() -> None:
    sizes: list[int] = []

    async def flush(items: Sequence[int]) -> list[Any]:
        sizes.append(len(items))
        await asyncio.sleep(0.001)
        return [ValueError(n) if n == 7 else n * 10 for n in items]

    async def main() -> list[Any]:
        batch: LoopBatch[int, int] = LoopBatch(flush, max_batch=16)
        return await asyncio.gather(*(batch(n) for n in range(40)), return_exceptions=True)

    answers = run(main())
    assert [a for i, a in enumerate(answers) if i != 7] == [n * 10 for n in range(40) if n != 7]
    assert isinstance(answers[7], ValueError)
    assert sum(sizes) == 40
    assert max(sizes) == 16
    assert len(sizes) < 40


def test_a_failing_batch_goes_to_failed_and_without_it_fails_every_caller() -> None:
    async def flush(items: Sequence[str]) -> list[Any]:
        if "poison" in items and len(items) > 1:
            raise RuntimeError("the batch")
        if items == ["poison"]:
            raise RuntimeError("alone")
        return [item.upper() for item in items]

    async def alone(items: Sequence[str], error: Exception) -> list[Any]:
        out: list[Any] = []
        for item in items:
            try:
                out += await flush([item])
            except RuntimeError as exc:
                out.append(exc)
        return out

    async def main(failed: Any) -> list[Any]:
        batch: LoopBatch[str, str] = LoopBatch(flush, max_batch=8, failed=failed)
        return await asyncio.gather(*(batch(x) for x in ("a", "poison", "b")), return_exceptions=True)

    a, poison, b = run(main(alone))
    assert (a, b) == ("A", "B")
    assert str(poison) == "alone"
    assert all(str(e) == "the batch" for e in run(main(None)))


def test_a_cancelled_flush_fails_its_callers_and_the_next_batch_runs() -> None:
    async def main() -> tuple[list[Any], str]:
        gate = asyncio.Event()

        async def flush(items: Sequence[str]) -> list[Any]:
            if items == ["hang"]:
                await gate.wait()
            return list(items)

        batch: LoopBatch[str, str] = LoopBatch(flush, max_batch=8)
        hung = asyncio.ensure_future(batch("hang"))
        await asyncio.sleep(0.01)
        assert batch._task is not None
        batch._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hung
        return [], await batch("after")

    assert run(main())[1] == "after"
