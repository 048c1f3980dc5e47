"""Python's cyclic garbage collector, paused while a large result is built.

A report of thousands of rows builds a hundred thousand dicts and Decimals that all live until
the answer is sent. Each of the collector's young-generation passes (every 700 allocations)
rescans the survivors, and its old-generation passes rescan the whole growing result, so a
4,000-row attribution report spent a third of its time, and its worst times, in collections
that free nothing: the result holds no reference cycles. Reference counting still frees
everything as usual; only the cycle search waits until the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector for the block; restore it as it was (another thread's block
    may have paused it first: the last one out does not turn it on under the first)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
