"""Concurrency and durability on real PostgreSQL: many postbacks in flight on the edge at once
(its loop batches, its thread pool's connections)."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from affiliates.models import Cap
from affiliates.tests import factories as f
from tracking.clickpath.blocking import blocking_pool_shutdown
from tracking.conversions.aio_db import loop_database_close
from tracking.models import CapCounter, Conversion
from tracking.tests.asgi_driver import EdgeClient
from tracking.tests.conversions.conftest import STORAGE_UNAVAILABLE, postback
from tracking.tests.factories import click_make

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _fire(edge: EdgeClient, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All at once: each from a thread of its own, all answered by the edge's one loop."""

    def one(params: dict[str, Any]) -> dict[str, Any]:
        return postback(edge, **params).json()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, requests))


def test_fifty_identical_postbacks_at_once_make_one_conversion(edge, shoes, shoes_click) -> None:
    bodies = _fire(edge, [{"click_id": shoes_click.id.hex, "amount": "25", "txn_id": "SAME-1"}] * 50)
    assert Conversion.objects.count() == 1
    results = sorted(b["result"] for b in bodies)
    assert results == ["accepted"] + ["duplicate"] * 49
    assert {b["conversion_id"] for b in bodies} == {Conversion.objects.get().id}


def test_fifty_identical_postbacks_without_txn_id_make_one_conversion(edge, shoes, shoes_click) -> None:
    bodies = _fire(edge, [{"click_id": shoes_click.id.hex, "goal": "lead"}] * 50)
    assert Conversion.objects.count() == 1
    assert sum(b["result"] == "accepted" for b in bodies) == 1


def test_concurrent_postbacks_against_a_cap_accept_exactly_the_room_left(
    edge, shoes, pixelpush, shoes_link
) -> None:
    cap = f.CapFactory(offer=shoes, metric=Cap.Metric.CONVERSIONS, limit=Decimal("12"))
    for _ in range(5):  # 7 of 12 left
        postback(edge, click_id=click_make(shoes, pixelpush).id.hex, goal="lead")
    clicks = [click_make(shoes, pixelpush) for _ in range(30)]
    bodies = _fire(edge, [{"click_id": c.id.hex, "goal": "lead"} for c in clicks])
    assert sum(b["result"] == "accepted" for b in bodies) == 7
    assert sum(b["reason"] == "cap_reached" for b in bodies) == 23
    assert CapCounter.objects.get(cap=cap).used == Decimal("12")
    assert Conversion.objects.filter(status="pending").count() == 12


def test_concurrent_payout_and_count_caps_hold_together(edge, shoes, pixelpush, shoes_link) -> None:
    f.CapFactory(offer=shoes, metric=Cap.Metric.CONVERSIONS, limit=Decimal("100"))
    f.CapFactory(offer=shoes, metric=Cap.Metric.PAYOUT, period=Cap.Period.MONTH, limit=Decimal("15.00"))
    clicks = [click_make(shoes, pixelpush) for _ in range(25)]
    bodies = _fire(edge, [{"click_id": c.id.hex, "goal": "lead"} for c in clicks])  # 1.50 each: room for 10
    assert sum(b["result"] == "accepted" for b in bodies) == 10
    assert CapCounter.objects.get(cap__metric="conversions").used == Decimal("10")


def _reconnect(edge: EdgeClient) -> None:
    """Close every connection (the test's, the edge loop's, its pool's): the next query of each
    connects with the settings as they are now."""
    connection.close()
    edge.edge.run(loop_database_close())
    blocking_pool_shutdown()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_postgres_unreachable_answers_503(edge, shoes, shoes_click) -> None:
    params = {"click_id": shoes_click.id.hex, "amount": "25", "txn_id": "DOWN-1"}
    # Catalog cached, on another goal (the click's one sale is DOWN-1's): the outage hits the write.
    postback(edge, click_id=shoes_click.id.hex, goal="lead", txn_id="WARM")
    _reconnect(edge)
    saved = dict(connection.settings_dict)
    connection.settings_dict["PORT"] = _closed_port()
    connection.settings_dict["OPTIONS"] = {**saved.get("OPTIONS", {}), "connect_timeout": 1}
    try:
        response = postback(edge, **params)
    finally:
        _reconnect(edge)
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json() == STORAGE_UNAVAILABLE
    assert not Conversion.objects.filter(txn_id="DOWN-1").exists()
    assert postback(edge, **params).json()["result"] == "accepted"  # the retry lands
