"""/postback on the edge's event loop (tracking/conversions/route.py, aio_db.py).

The contract tests run through the edge too (the root conftest's ``edge``); these are about the loop
itself: which postbacks stay on it, batches shared by concurrent postbacks (duplicates inside
one batch, a poison row), and PostgreSQL going away.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from django.db import connection

from affiliates.models import Cap, Goal
from affiliates.tests import factories as f
from conftest import ACME_POSTBACK_TOKEN
from tracking.conversions import route as postback_edge
from tracking.conversions.aio_db import LoopDatabase, loop_database
from tracking.conversions.catalog import catalog_clear
from tracking.conversions.intake import postback_receive
from tracking.models import CapCounter, Conversion
from tracking.tests.asgi_driver import Edge
from tracking.tests.conversions.conftest import STORAGE_UNAVAILABLE
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db(transaction=True)
on_postgres = pytest.mark.postgres


@pytest.fixture
def edge() -> Iterator[Edge]:
    """The raw driver (answers as status, headers, body), not the root conftest's client."""
    driver = Edge()
    yield driver
    driver.close()


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the edge ran in its thread pool: "catalog" for each catalog load, else the name
    of the function (a whole postback, a store, a duplicate's original)."""
    seen: list[str] = []
    real_blocking, real_threaded = postback_edge.blocking, postback_edge._threaded

    async def blocking(fn: Any, *args: Any) -> Any:
        if "_cached" in getattr(args[0] if args else fn, "__qualname__", ""):
            seen.append("catalog")
        return await real_blocking(fn, *args)

    async def threaded(fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(fn.__name__)
        return await real_threaded(fn, *args, **kwargs)

    monkeypatch.setattr(postback_edge, "blocking", blocking)
    monkeypatch.setattr(postback_edge, "_threaded", threaded)
    return seen


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """The size of every click lookup and INSERT the loop sent (for loops made from now on)."""
    sizes: dict[str, list[int]] = {"clicks": [], "inserts": []}
    for kind, name in (("clicks", "_clicks_fetch"), ("inserts", "_conversions_insert")):
        real = getattr(LoopDatabase, name)

        def spy(self: LoopDatabase, items: Sequence[Any], _real: Any = real, _kind: str = kind) -> Any:
            sizes[_kind].append(len(items))
            return _real(self, items)

        monkeypatch.setattr(LoopDatabase, name, spy)
    return sizes


def query(**params: Any) -> str:
    params.setdefault("token", ACME_POSTBACK_TOKEN)
    return urlencode({k: v for k, v in params.items() if v is not None})


def answer(raw: tuple[int, list[tuple[str, str]], bytes]) -> tuple[int, dict[str, Any]]:
    return raw[0], json.loads(raw[2])


@on_postgres
def test_a_common_postback_runs_on_the_loop_once_the_catalog_is_cached(edge, threads, batches, shoes_click):
    status, first = answer(edge.get("/postback", query(click_id=shoes_click.id.hex, goal="lead")))
    assert (status, first["result"]) == (200, "accepted")
    assert threads == ["catalog"] * 3  # offer, advertiser, standing; nothing else left the loop
    threads.clear()
    status, second = answer(
        edge.get("/postback", query(click_id=shoes_click.id.hex, amount="10", txn_id="E-1"))
    )
    assert (status, second["result"], second["status"]) == (200, "accepted", "pending")
    assert threads == []
    assert batches == {"clicks": [1, 1], "inserts": [1, 1]}
    conv = Conversion.objects.get(pk=second["conversion_id"])
    assert (conv.txn_id, conv.amount, conv.click_id, conv.sub1) == (
        "E-1",
        Decimal("10"),
        shoes_click.id,
        "campaign-7",
    )
    assert conv.trace["verdict"] == {"status": "pending", "reason": "", "held_for_review": False}
    assert conv.trace["request"]["via"] == "postback"


@on_postgres
def test_a_burst_that_misses_the_catalog_loads_each_entry_once(edge, threads, shoes, pixelpush, shoes_link):
    clicks = [click_make(shoes, pixelpush) for _ in range(20)]
    answers = [
        answer(a) for a in edge.burst("/postback", [query(click_id=c.id.hex, goal="lead") for c in clicks])
    ]
    assert [(status, body["result"]) for status, body in answers] == [(200, "accepted")] * 20
    assert threads == ["catalog"] * 3  # offer, advertiser, standing: one load each for all 20


@on_postgres
def test_fifty_identical_postbacks_in_one_batch_make_one_conversion(edge, batches, shoes_click):
    edge.get("/postback", query(click_id=shoes_click.id.hex, goal="lead", txn_id="WARM"))  # catalog cached
    answers = [
        answer(a)
        for a in edge.burst(
            "/postback", [query(click_id=shoes_click.id.hex, amount="25", txn_id="SAME")] * 50
        )
    ]
    assert Conversion.objects.filter(txn_id="SAME").count() == 1
    original = Conversion.objects.get(txn_id="SAME")
    assert sorted(body["result"] for _, body in answers) == ["accepted"] + ["duplicate"] * 49
    assert {body["conversion_id"] for _, body in answers} == {original.id}
    assert max(batches["inserts"]) > 1  # the duplicates met inside one INSERT


@on_postgres
def test_each_answer_of_a_batch_names_its_own_row(edge, batches, shoes, pixelpush, shoes_link):
    # Several sales per click: the goal allows them (one that does not would reject the second).
    Goal.objects.filter(offer=shoes, code="sale").update(allow_multiple=True)
    clicks = [click_make(shoes, pixelpush) for _ in range(20)]
    edge.get("/postback", query(click_id=clicks[0].id.hex, goal="lead", txn_id="WARM"))
    queries = [query(click_id=clicks[i % 20].id.hex, amount="10", txn_id=f"T{i % 30}") for i in range(40)]
    answers = [answer(a)[1] for a in edge.burst("/postback", queries)]
    assert sum(a["result"] == "accepted" for a in answers) == 30
    assert sum(a["result"] == "duplicate" for a in answers) == 10
    stored = {c.id: c for c in Conversion.objects.exclude(txn_id="WARM")}
    assert len(stored) == 30
    for i, body in enumerate(answers):
        conv = stored[body["conversion_id"]]
        assert conv.txn_id == f"T{i % 30}"
        if body["result"] == "accepted":
            assert conv.click_id == clicks[i % 20].id
    assert max(batches["clicks"]) > 1
    assert max(batches["inserts"]) > 1


@on_postgres
def test_without_txn_id_one_batch_converts_a_click_once_per_goal(edge, shoes_click):
    edge.get("/postback", query(click_id=shoes_click.id.hex, amount="5", txn_id="WARM"))  # another goal
    answers = [
        answer(a)[1] for a in edge.burst("/postback", [query(click_id=shoes_click.id.hex, goal="lead")] * 20)
    ]
    assert sum(a["result"] == "accepted" for a in answers) == 1
    assert Conversion.objects.filter(txn_id="").count() == 1


@pytest.fixture
def poison_txn_id() -> Iterator[str]:
    """A txn_id the table refuses, through a CHECK added for the test. (A NUL byte once served:
    params.py now refuses it as bad_encoding before it reaches a batch.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE tracking_conversion ADD CONSTRAINT test_poison CHECK (txn_id <> 'POISON')"
        )
    try:
        yield "POISON"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE tracking_conversion DROP CONSTRAINT test_poison")


@on_postgres
def test_a_poison_row_fails_alone_and_its_batch_neighbours_are_stored(
    edge, batches, shoes, pixelpush, shoes_link, poison_txn_id
):
    clicks = [click_make(shoes, pixelpush) for _ in range(10)]
    edge.get("/postback", query(click_id=clicks[0].id.hex, goal="lead", txn_id="WARM"))
    queries = [query(click_id=c.id.hex, amount="5", txn_id=f"OK-{n}") for n, c in enumerate(clicks)]
    queries[4] = query(click_id=clicks[4].id.hex, amount="5", txn_id=poison_txn_id)
    answers = [answer(a) for a in edge.burst("/postback", queries)]
    assert answers[4][0] == 503
    assert answers[4][1]["reason"] == "storage_unavailable"
    assert [status for n, (status, _) in enumerate(answers) if n != 4] == [200] * 9
    assert Conversion.objects.filter(txn_id__startswith="OK-").count() == 9
    assert max(batches["inserts"]) > 1  # the poison was in a shared batch, then sent alone


@on_postgres
def test_two_loops_at_once_still_make_one_conversion(shoes_click):
    """Two app-server workers: each its own loop and connection; the unique key decides."""
    first, second = Edge(), Edge()
    try:
        for e in (first, second):
            e.get("/postback", query(click_id=shoes_click.id.hex, goal="lead", txn_id="WARM"))
        same = [query(click_id=shoes_click.id.hex, amount="25", txn_id="BOTH")] * 25
        with ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(e.burst, "/postback", same) for e in (first, second)]
            answers = [answer(a)[1] for run in runs for a in run.result()]
    finally:
        first.close()
        second.close()
    assert Conversion.objects.filter(txn_id="BOTH").count() == 1
    assert sum(a["result"] == "accepted" for a in answers) == 1
    assert {a["conversion_id"] for a in answers} == {Conversion.objects.get(txn_id="BOTH").id}


@on_postgres
def test_a_cap_is_exact_under_a_burst_on_the_loop(edge, threads, shoes, pixelpush, shoes_link):
    cap = f.CapFactory(offer=shoes, metric=Cap.Metric.CONVERSIONS, limit=Decimal("7"))
    clicks = [click_make(shoes, pixelpush) for _ in range(30)]
    answers = [
        answer(a)[1] for a in edge.burst("/postback", [query(click_id=c.id.hex, goal="lead") for c in clicks])
    ]
    assert sum(a["result"] == "accepted" for a in answers) == 7
    assert sum(a["reason"] == "cap_reached" for a in answers) == 23
    assert CapCounter.objects.get(cap=cap).used == Decimal("7")
    assert threads.count("conversion_store") == 30  # caps take row locks: in threads


@on_postgres
def test_postgres_going_away_answers_503_then_the_retry_lands(edge, shoes_click):
    params = {"click_id": shoes_click.id.hex, "amount": "25"}
    # Warmed on another goal: the click's one sale is the retry's.
    warm = query(click_id=shoes_click.id.hex, goal="lead", txn_id="WARM")
    assert answer(edge.get("/postback", warm))[0] == 200
    saved = dict(connection.settings_dict)
    ours = connection.connection.info.backend_pid if connection.connection else 0
    dsn = f"host={saved['HOST']} port={saved['PORT']} user={saved['USER']} dbname={saved['NAME']}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid NOT IN (%s, pg_backend_pid())",
            [saved["NAME"], ours],
        ).fetchall()
    assert killed  # the loop's connection (and the pool threads') are gone
    connection.settings_dict["PORT"] = _closed_port()  # and PostgreSQL does not come back yet
    connection.settings_dict["OPTIONS"] = {**saved.get("OPTIONS", {}), "connect_timeout": 1}
    try:
        down = [answer(edge.get("/postback", query(**params, txn_id="DOWN"))) for _ in range(2)]
    finally:
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert [status for status, _ in down] == [503, 503]  # the broken connection, then no server
    assert down[0][1] == STORAGE_UNAVAILABLE
    assert not Conversion.objects.filter(txn_id="DOWN").exists()
    status, body = answer(edge.get("/postback", query(**params, txn_id="DOWN")))  # the retry
    assert (status, body["result"]) == (200, "accepted")
    assert Conversion.objects.filter(txn_id="DOWN").count() == 1


@on_postgres
def test_the_loops_connection_is_replaced_after_conn_max_age(edge, shoes_click):
    async def backend_pid() -> int:
        return loop_database()._conn.info.backend_pid  # type: ignore[union-attr]

    saved = connection.settings_dict.get("CONN_MAX_AGE")
    connection.settings_dict["CONN_MAX_AGE"] = 2
    try:
        edge.get("/postback", query(click_id=shoes_click.id.hex, goal="lead", txn_id="AGE-1"))
        first = edge.run(backend_pid())
        edge.get("/postback", query(click_id=shoes_click.id.hex, goal="lead", txn_id="AGE-2"))
        assert edge.run(backend_pid()) == first  # young: kept
        time.sleep(2.1)
        edge.get("/postback", query(click_id=shoes_click.id.hex, goal="lead", txn_id="AGE-3"))
        assert edge.run(backend_pid()) != first
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = saved
    assert Conversion.objects.filter(txn_id__startswith="AGE-").count() == 3


@on_postgres
def test_the_loops_statements_are_prepared_once_per_connection(edge, shoes, pixelpush, shoes_link):
    """Django turns psycopg's preparing off; without it the loop's statements were parsed and
    planned again for every batch (about a third of PostgreSQL's work per postback)."""
    for n, click in enumerate(click_make(shoes, pixelpush) for _ in range(3)):
        edge.get("/postback", query(click_id=click.id.hex, goal="lead", txn_id=f"PREP-{n}"))

    async def prepared() -> list[tuple[str, int]]:
        conn = await loop_database().connection()
        sql = "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
        cursor = await conn.execute(sql)
        return await cursor.fetchall()

    runs = edge.run(prepared())
    assert [n for sql, n in runs if 'FROM "tracking_click"' in sql] == [3]  # one text: batches of 1
    # The conversions go by COPY, which has no plan to keep; an INSERT is only the rare retry's.
    assert [sql for sql, _ in runs if sql.startswith("INSERT INTO")] == []
    assert Conversion.objects.filter(txn_id__startswith="PREP-").count() == 3


@on_postgres
def test_the_loops_copy_stores_every_column_as_the_orm_does(edge, threads, shoes, pixelpush, shoes_link):
    """The loop writes conversions by binary COPY, the thread pool through the ORM: the same
    postback must make the same row either way (types, Decimals, NULLs, JSON)."""
    params = {"goal": "sale", "amount": "12.34", "customer_id": "C-77", "customer_type": "new"}
    visitor = {"sub2": "s2", "user_agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}  # flagged
    loop_click, orm_click = click_make(shoes, pixelpush, **visitor), click_make(shoes, pixelpush, **visitor)
    status, _ = answer(edge.get("/postback", query(click_id=loop_click.id.hex, txn_id="BY-COPY", **params)))
    raw = {"token": ACME_POSTBACK_TOKEN, "click_id": orm_click.id.hex, "txn_id": "BY-ORM", **params}
    assert postback_receive(raw, ip="127.0.0.1").result == "accepted"
    assert status == 200
    assert "postback_receive" not in threads  # the first one stayed on the loop

    by_copy, by_orm = Conversion.objects.get(txn_id="BY-COPY"), Conversion.objects.get(txn_id="BY-ORM")
    per_row = {"id", "created_at", "txn_id", "click_id", "click_time", "dedupe_key", "trace"}
    for field in Conversion._meta.concrete_fields:
        if field.attname not in per_row:
            copied, saved = getattr(by_copy, field.attname), getattr(by_orm, field.attname)
            assert (field.attname, copied, str(copied)) == (field.attname, saved, str(saved))
    assert (by_copy.amount, by_copy.customer_type, by_copy.sub2) == (Decimal("12.34"), "new", "s2")
    assert by_copy.customer_hash
    assert (by_copy.fraud_flags, by_copy.held_for_review) == (["bot_user_agent"], True)
    assert by_copy.dedupe_key == f"{loop_click.id.hex}:{by_copy.goal_id}"
    for trace in (by_copy.trace, by_orm.trace):
        del trace["request"]["received_at"], trace["request"]["sender_ip"]
        del trace["attribution"]["click_id"], trace["attribution"]["click_time"]
    assert by_copy.trace == by_orm.trace


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.redis
@on_postgres
def test_a_click_still_in_redis_is_found_through_the_thread_pool(edge, threads, shoes_link):
    """A conversion can arrive before the consumer has written its click."""
    status, headers, _ = edge.get(f"/c/{shoes_link.token}", "sub1=fresh")
    assert status == 302
    click_id = dict(headers)["location"].split("cid=")[1].split("&")[0]
    status, body = answer(edge.get("/postback", query(click_id=click_id, goal="lead")))
    assert (status, body["result"]) == (200, "accepted")
    assert Conversion.objects.get(pk=body["conversion_id"]).sub1 == "fresh"
    assert threads[-1] == "postback_receive"


def test_what_the_loop_cannot_decide_runs_whole_in_a_thread(edge, threads, shoes, shoes_click, settings):
    Goal.objects.filter(offer=shoes, code="lead").update(allow_multiple=True)
    first = answer(edge.get("/postback", query(click_id=shoes_click.id.hex, goal="lead", txn_id="S-1")))[1]
    update = answer(edge.get("/postback", query(txn_id="S-1", status="approved")))[1]
    coupon = answer(edge.get("/postback", query(coupon="NOSUCH", amount="4")))[1]
    settings.CONVERSION_CATALOG_TTL_SECONDS = 0  # nothing cached: every read in a thread
    catalog_clear()
    uncached = answer(edge.get("/postback", query(click_id=shoes_click.id.hex, goal="lead", txn_id="S-2")))[1]
    assert (first["result"], update["result"], coupon["reason"], uncached["result"]) == (
        "accepted",
        "updated",
        "unknown_coupon",
        "accepted",
    )
    if connection.vendor == "postgresql":
        assert threads == ["catalog"] * 3 + ["postback_receive"] * 3
    else:  # SQLite: the loop has no database of its own, every postback runs in a thread
        assert threads == ["postback_receive"] * 4


def test_a_body_over_the_upload_limit_is_a_400(edge, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = urlencode({"token": ACME_POSTBACK_TOKEN, "txn_id": "x" * 200}).encode()
    status, out = answer(
        edge.run(
            edge.request(
                "/postback", method="POST", body=body,
                headers=[(b"content-type", b"application/x-www-form-urlencoded")],
            )
        )
    )  # fmt: skip
    assert (status, out["reason"]) == (400, "bad_parameter")
