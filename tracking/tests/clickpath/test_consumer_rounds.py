"""The consumer's rounds: it lingers after a small batch so a busy stream is written in large
transactions, never after a full one or an idle wait, and claims dead consumers' entries on
start and then every few seconds (every round when draining with --once)."""

from __future__ import annotations

from typing import Any

import pytest

from tracking.clickpath import consumer as consumer_module
from tracking.clickpath.consumer import Consumer, group_ensure

pytestmark = pytest.mark.redis


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: Any) -> None:
    """These rounds write nothing: keep run()'s connection check off a test database connection
    that an earlier test on this worker may have left open (pytest-django blocks it here)."""
    monkeypatch.setattr(consumer_module, "close_old_connections", lambda: None)


def test_it_lingers_after_a_small_batch_only(monkeypatch: Any, settings: Any) -> None:
    settings.CLICK_CONSUMER_LINGER_MS = 150
    consumer = Consumer(name="rounds", batch=1000)
    written = iter([5, 0, 1000, 3])  # a small batch, an idle (blocked) read, a full one, a small one
    monkeypatch.setattr(consumer, "step", lambda: next(written))
    sleeps: list[float] = []
    monkeypatch.setattr(consumer_module.time, "sleep", sleeps.append)
    with pytest.raises(StopIteration):
        consumer.run()
    assert sleeps == [0.15, 0.15]


def test_draining_once_never_lingers(monkeypatch: Any) -> None:
    consumer = Consumer(name="rounds-once", batch=1000)
    written = iter([5, 3, 0])
    monkeypatch.setattr(consumer, "step", lambda: next(written))
    sleeps: list[float] = []
    monkeypatch.setattr(consumer_module.time, "sleep", sleeps.append)
    consumer.run(once=True)
    assert sleeps == []
    assert consumer.claim_every == 0.0


def test_stale_entries_are_claimed_at_start_and_then_when_due(monkeypatch: Any) -> None:
    consumer = Consumer(name="rounds-claims")
    group_ensure(consumer.client)
    claims: list[int] = []
    monkeypatch.setattr(consumer, "claim_stale", lambda: claims.append(1) or 0)
    consumer.step(block_ms=1)
    consumer.step(block_ms=1)
    assert claims == [1]
    consumer._next_claim = 0.0  # the interval has passed
    consumer.step(block_ms=1)
    assert claims == [1, 1]
