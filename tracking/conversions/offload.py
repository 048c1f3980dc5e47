"""Which steps of a postback may run on the event loop, and how the others leave it.

The postback's decision code (intake, attribution, services) is one piece of code whether the
edge runs it on its event loop or in its thread pool (tracking/conversions/route.py). On the
loop nothing may block, and Django refuses the ORM there (SynchronousOnlyOperation). So the
route runs the decision inside ``OnLoop()``, and every step that would read the database calls
``blocking_io()`` first, which there raises before any I/O:

- ``CatalogMiss``: a cached catalog read (offer, goals, advertiser, standing, coupon) missed.
  The edge runs ``miss.load`` in a thread, which fills the process cache, and decides again.
- ``Offload``: anything rarer (first-click attribution, an FX rate, a status update): the edge
  runs the whole postback in a thread.

Nothing is written before the store, so abandoning a decision halfway is always safe.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

_on_loop: ContextVar[bool] = ContextVar("postback_on_loop", default=False)


class Offload(Exception):
    """This postback needs a blocking step: run it whole in a thread."""


class CatalogMiss(Offload):
    """A catalog read missed the process cache: run ``load`` in a thread (it fills the cache),
    then decide again on the loop. ``key`` names the entry, so concurrent misses of one entry
    can share one load."""

    def __init__(self, key: tuple[str, object], load: Callable[[], Any]) -> None:
        super().__init__(key[0])
        self.key = key
        self.load = load


class OnLoop:
    """Run the enclosed decision code in loop mode: blocking reads raise instead. A class, not
    a ``@contextmanager`` generator: every postback on the loop enters it, and the generator
    and its wrapper were five Python calls each time."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _on_loop.set(True)

    def __exit__(self, *exc: object) -> None:
        _on_loop.reset(self._token)


def blocking_io(what: str) -> None:
    """Call before a blocking read in the decision code: on the loop it raises Offload."""
    if _on_loop.get():
        raise Offload(what)


def catalog_miss(key: tuple[str, object], load: Callable[[], Any]) -> None:
    """Call before loading a catalog entry that missed the cache: on the loop it raises
    CatalogMiss, carrying ``load`` for the thread."""
    if _on_loop.get():
        raise CatalogMiss(key, load)
